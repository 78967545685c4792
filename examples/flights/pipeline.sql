-- ember main job: the nycflights13 lakehouse (landing -> trusted -> curated -> report).
-- Run from the repository root:  ember submit examples/flights/pipeline.sql --conf spark.sql.session.timeZone=UTC
-- Output zones are written under target/flights-lake/.

-- Landing: the CSVs exactly as shipped ("NA" = missing). Malformed rows are kept
-- (PERMISSIVE) and counted per file; `ember submit --report` prints the counts.
CREATE OR REPLACE TEMPORARY VIEW landing_flights USING csv OPTIONS (path 'examples/flights/data/flights.csv.gz', header 'true', inferSchema 'true', nullValue 'NA');
CREATE OR REPLACE TEMPORARY VIEW landing_airlines USING csv OPTIONS (path 'examples/flights/data/airlines.csv.gz', header 'true', inferSchema 'true', nullValue 'NA');
CREATE OR REPLACE TEMPORARY VIEW landing_airports USING csv OPTIONS (path 'examples/flights/data/airports.csv.gz', header 'true', inferSchema 'true', nullValue 'NA');
CREATE OR REPLACE TEMPORARY VIEW landing_planes USING csv OPTIONS (path 'examples/flights/data/planes.csv.gz', header 'true', inferSchema 'true', nullValue 'NA');
CREATE OR REPLACE TEMPORARY VIEW landing_weather USING csv OPTIONS (path 'examples/flights/data/weather.csv.gz', header 'true', inferSchema 'true', nullValue 'NA');

-- Trusted: typed Parquet, flights partitioned by month; column names that no
-- warehouse rejects (no reserved words such as year/month/day/hour/type).
CREATE OR REPLACE TABLE trusted_flights USING parquet PARTITIONED BY (flight_month) LOCATION 'target/flights-lake/trusted/flights' AS
SELECT year AS flight_year, month AS flight_month, day AS flight_day, dep_time, sched_dep_time, dep_delay,
       arr_time, sched_arr_time, arr_delay, carrier, flight AS flight_number, tailnum, origin, dest,
       air_time, distance, hour AS sched_hour, minute AS sched_minute, time_hour
FROM landing_flights;
CREATE OR REPLACE TABLE trusted_airlines USING parquet LOCATION 'target/flights-lake/trusted/airlines' AS
SELECT carrier, name AS airline_name FROM landing_airlines;
CREATE OR REPLACE TABLE trusted_airports USING parquet LOCATION 'target/flights-lake/trusted/airports' AS
SELECT faa, name AS airport_name, lat, lon, alt, tz AS tz_offset, dst, tzone FROM landing_airports;
CREATE OR REPLACE TABLE trusted_planes USING parquet LOCATION 'target/flights-lake/trusted/planes' AS
SELECT tailnum, year AS plane_year, type AS plane_type, manufacturer, model, engines, seats FROM landing_planes;
CREATE OR REPLACE TABLE trusted_weather USING parquet LOCATION 'target/flights-lake/trusted/weather' AS
SELECT origin, time_hour, temp, dewp, humid, wind_speed, wind_gust, precip, pressure, visib FROM landing_weather;

-- Curated: flights joined with airlines, destination airports, planes and the
-- hourly weather at the origin; delay and on-time figures by carrier, month, origin.
CREATE OR REPLACE TABLE curated_delays USING parquet LOCATION 'target/flights-lake/curated/delays' AS
SELECT al.airline_name, f.carrier, f.flight_month, f.origin,
       COUNT(*) AS flights,
       COUNT(f.dep_delay) AS departed,
       ROUND(AVG(f.dep_delay), 2) AS avg_dep_delay,
       ROUND(AVG(f.arr_delay), 2) AS avg_arr_delay,
       ROUND(100.0 * SUM(CASE WHEN f.arr_delay <= 15 THEN 1 ELSE 0 END) / COUNT(f.arr_delay), 1) AS on_time_pct,
       ROUND(AVG(w.visib), 2) AS avg_visibility,
       COUNT(DISTINCT ap.faa) AS destinations,
       ROUND(AVG(p.seats), 1) AS avg_seats
FROM trusted_flights f
JOIN trusted_airlines al ON f.carrier = al.carrier
LEFT JOIN trusted_airports ap ON f.dest = ap.faa
LEFT JOIN trusted_planes p ON f.tailnum = p.tailnum
LEFT JOIN trusted_weather w ON f.origin = w.origin AND f.time_hour = w.time_hour
GROUP BY al.airline_name, f.carrier, f.flight_month, f.origin;

-- Report: yearly figures per carrier, worst on-time first.
SELECT airline_name, SUM(flights) AS flights,
       ROUND(SUM(avg_dep_delay * departed) / SUM(departed), 2) AS avg_dep_delay,
       ROUND(MIN(on_time_pct), 1) AS worst_month_on_time_pct,
       ROUND(MAX(on_time_pct), 1) AS best_month_on_time_pct
FROM curated_delays GROUP BY airline_name ORDER BY worst_month_on_time_pct, airline_name;
