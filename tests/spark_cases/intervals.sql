-- ANSI interval literals: one field, the column named and shown as Spark's canonical literal
SELECT INTERVAL '1' SECOND, INTERVAL '1.5' SECOND, INTERVAL '-1.25' SECOND, INTERVAL '90' MINUTE, INTERVAL '25' HOUR, INTERVAL '3' DAY
SELECT INTERVAL '1' YEAR, INTERVAL '-13' MONTH, INTERVAL '1-1' YEAR TO MONTH, INTERVAL '-1-1' YEAR TO MONTH
-- field-to-field forms
SELECT INTERVAL '1 2' DAY TO HOUR, INTERVAL '1 2:3' DAY TO MINUTE, INTERVAL '-1 2:3:4.5' DAY TO SECOND, INTERVAL '2:3' HOUR TO MINUTE, INTERVAL '2:3:4' HOUR TO SECOND, INTERVAL '3:4.000001' MINUTE TO SECOND
SELECT INTERVAL '106751991 04:00:54.775807' DAY TO SECOND, INTERVAL '178956970-7' YEAR TO MONTH
-- multi-unit forms take the ANSI type whose range spans the units written
SELECT interval 5 days 3 hours 7 minutes, interval 1 year 2 months, interval 3 seconds, interval 1 hour 2 seconds
SELECT interval '2 years 3 months', interval '1 day 2 hours', interval '10 seconds'
SELECT INTERVAL 2 DAYS, INTERVAL 1 MONTHS, INTERVAL '1' DAYS, INTERVAL 1 WEEK
SELECT interval 5 hours 30 seconds 1 milliseconds 1 microseconds
SELECT interval 1 year 2 days
-- typeof and string casts
SELECT typeof(INTERVAL '1' DAY), typeof(INTERVAL '1' MONTH), typeof(make_interval(1)), typeof(INTERVAL '1 2' DAY TO HOUR)
-- constructors
SELECT make_dt_interval(1, 12, 30, 01.001001), make_dt_interval(2), make_dt_interval(100, null, 3)
SELECT make_dt_interval(1, 2, 3, 4.5), make_dt_interval(-1), make_dt_interval(), make_ym_interval(), make_ym_interval(0, -13)
SELECT make_ym_interval(1, 2), make_ym_interval(1, 0), make_ym_interval(-1, 1), make_ym_interval(2)
SELECT make_interval(100, 11, 1, 1, 12, 30, 01.001001), make_interval(100, null, 3), make_interval(0, 1, 0, 1, 0, 0, 100.000001)
SELECT make_interval(1, 2, 3, 4, 5, 6, 7.5), make_interval(0,0,0,0,0,0,0), make_interval(-1, -2, 0, -3), make_interval(0,0,0,0,0,0,-0.5)
SELECT try_make_interval(2147483647), try_make_interval(1, 2)
-- extract and date_part read an interval's parts, with its sign
SELECT extract(YEAR FROM INTERVAL '2021-11' YEAR TO MONTH), extract(DAY FROM INTERVAL '1 2:3:4.5' DAY TO SECOND), extract(HOUR FROM INTERVAL '1 2:3:4.5' DAY TO SECOND), extract(SECOND FROM INTERVAL '1 2:3:4.5' DAY TO SECOND)
SELECT extract(SECOND FROM INTERVAL '-1 2:3:4.5' DAY TO SECOND), extract(DAY FROM INTERVAL '-1 2:3:4.5' DAY TO SECOND), extract(MONTH FROM INTERVAL '-1-1' YEAR TO MONTH)
SELECT extract(DAY FROM make_interval(1,2,3,4,5,6,7.5)), extract(SECOND FROM make_interval(1,2,3,4,5,6,7.5)), extract(MONTH FROM make_interval(1,2,3,4)), extract(YEAR FROM make_interval(1,2,3,4)), extract(HOUR FROM make_interval(1,2,3,4,5))
SELECT date_part('days', interval 5 days 3 hours 7 minutes), date_part('MINUTE', INTERVAL '123 23:55:59.002001' DAY TO SECOND)
-- arithmetic: the result's range is the union of the operands' (+, -), the full range otherwise
SELECT INTERVAL '1' MONTH + INTERVAL '1' YEAR, INTERVAL '1' HOUR + INTERVAL '1' SECOND, INTERVAL '1' DAY * 2, INTERVAL '3' MONTH / 2, -INTERVAL '1' DAY
SELECT abs(INTERVAL '-1' DAY), -INTERVAL '-1-1' YEAR TO MONTH, INTERVAL '1' DAY * 1.5, INTERVAL '1' YEAR / 3.0
SELECT INTERVAL '1' DAY - INTERVAL '1' HOUR, INTERVAL '2' YEAR - INTERVAL '1' MONTH
SELECT TIMESTAMP '2021-01-02 00:00:00' - TIMESTAMP '2021-01-01 00:00:00'
SELECT INTERVAL '1' DAY / 0
SELECT INTERVAL '1' MONTH + INTERVAL '1' DAY
-- comparisons across ranges of one type
SELECT INTERVAL '1' DAY = INTERVAL '24' HOUR, INTERVAL '1' DAY < INTERVAL '25' HOUR, INTERVAL '1' MONTH > INTERVAL '0' YEAR
-- try_ arithmetic
SELECT try_add(interval 1 year, interval 2 year), try_divide(interval 2 month, 2), try_divide(interval 2 month, 0)
SELECT try_divide(INTERVAL '1' DAY, 0), try_multiply(INTERVAL '1' DAY, 2), try_subtract(INTERVAL '1' DAY, INTERVAL '1' HOUR)
-- with dates and timestamps
SELECT try_add(date'2021-01-01', interval 1 year), DATE '2021-01-01' + INTERVAL '1' DAY - INTERVAL '1' DAY AS d, DATE '2021-03-01' + INTERVAL '2' DAY AS e
SELECT sequence(to_date('2018-01-01'), to_date('2018-03-01'), interval 1 month), sequence(to_date('2018-01-01'), to_date('2018-03-01'), interval '0-1' year to month)
SELECT width_bucket(INTERVAL '1' YEAR, INTERVAL '0' YEAR, INTERVAL '10' YEAR, 10), width_bucket(INTERVAL '1' DAY, INTERVAL '0' DAY, INTERVAL '10' DAY, 10)
-- a VALUES column of intervals takes the union of the rows' ranges; NULL rows are NULLs of it
SELECT x FROM VALUES (INTERVAL '1' DAY), (INTERVAL '2' HOUR) AS t(x)
SELECT typeof(x), x FROM VALUES (INTERVAL '1' MONTH), (NULL) AS t(x)
-- aggregates: sum, min, max, mode and the approximate percentiles keep the range; avg, median and percentile take the full range
SELECT sum(x), avg(x), min(x), max(x), count(x) FROM VALUES (INTERVAL '1' DAY), (INTERVAL '2' DAY), (NULL) AS t(x)
SELECT sum(x), avg(x) FROM VALUES (INTERVAL '1' MONTH), (INTERVAL '2' MONTH) AS t(x)
SELECT median(col), percentile(col, 0.5), mode(col) FROM VALUES (INTERVAL '0' MONTH), (INTERVAL '10' MONTH), (INTERVAL '10' MONTH) AS tab(col)
SELECT percentile(col, array(0.2, 0.5)) FROM VALUES (INTERVAL '0' SECOND), (INTERVAL '10' SECOND) AS tab(col)
SELECT percentile_approx(col, 0.5, 100), approx_percentile(col, 0.5, 100) FROM VALUES (INTERVAL '0' MONTH), (INTERVAL '1' MONTH), (INTERVAL '2' MONTH), (INTERVAL '10' MONTH) AS tab(col)
SELECT percentile_approx(col, array(0.5, 0.7), 100) FROM VALUES (INTERVAL '0' SECOND), (INTERVAL '1' SECOND), (INTERVAL '2' SECOND), (INTERVAL '10' SECOND) AS tab(col)
SELECT k, sum(x), avg(x) FROM VALUES (1, INTERVAL '1' HOUR), (1, INTERVAL '2' HOUR), (2, INTERVAL '90' MINUTE) AS t(k, x) GROUP BY k ORDER BY k
SELECT INTERVAL '1-1' YEAR TO MONTH div INTERVAL '-1' MONTH, INTERVAL '1' DAY div INTERVAL '7' HOUR
-- a later value of a multi-unit interval may carry its own sign
SELECT interval 1 day -3 hours, interval 2 years -1 month
-- interval frame bounds of a RANGE window over timestamps
SELECT v, sum(v) OVER (ORDER BY ts RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW) AS s FROM VALUES (TIMESTAMP '2021-01-01 00:00:00', 1), (TIMESTAMP '2021-01-01 12:00:00', 2), (TIMESTAMP '2021-01-03 00:00:00', 3) AS t(ts, v) ORDER BY v
