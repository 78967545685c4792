"""RDD workloads of #23's benchmark, one PySpark program for every engine.

  rdd.py gen DIR MB
      Writes DIR/words/part-NNN.txt, MB megabytes of text in 64 MB files (lines of
      12 words drawn from a Zipf-like vocabulary of 50,000 words, seeded: the same
      bytes on every run), unless DIR/words/_DONE says they are already there.

  rdd.py run DATA ROWS WORKLOAD RUNS     (run by `ember submit` or `spark-submit`)
      WORKLOAD `wordcount`: sc.textFile(DATA/words) -> flatMap(split) -> map((w, 1))
      -> reduceByKey(add) -> sortBy(count, descending) -> take(10), plus the number
      of distinct words and the total count (the check).
      WORKLOAD `join`: ROWS (key, value) records (keys i * 7919 mod ROWS/5, from
      sc.range in 8 slices) joined with ROWS/5 records (k, k mod 97) in 8 slices;
      the sum of the joined right values is the check.
      Prints one JSON line per run: {"workload", "seconds", "result"}; seconds is
      the wall time of the action (the session is up before the clock starts).
"""

import json
import os
import sys
import time
from operator import add


def gen(out_dir, mb):
    words_dir = os.path.join(out_dir, "words")
    done = os.path.join(words_dir, "_DONE")
    if os.path.exists(done) and open(done).read().strip() == str(mb):
        return
    os.makedirs(words_dir, exist_ok=True)
    import random

    rnd = random.Random(23)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = sorted({"".join(rnd.choice(letters) for _ in range(rnd.randint(2, 10)))
                    for _ in range(60000)})[:50000]
    rnd.shuffle(vocab)
    import itertools

    cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.1 for i in range(len(vocab))))
    target = mb * 1024 * 1024
    file_size = 64 * 1024 * 1024
    written, part = 0, 0
    while written < target:
        name = os.path.join(words_dir, "part-%03d.txt" % part)
        size = 0
        with open(name, "w") as f:
            while size < file_size and written + size < target:
                ws = rnd.choices(vocab, cum_weights=cum, k=12 * 5000)
                block = "\n".join(" ".join(ws[i:i + 12]) for i in range(0, len(ws), 12)) + "\n"
                f.write(block)
                size += len(block)
        written += size
        part += 1
    with open(done, "w") as f:
        f.write(str(mb))


def wordcount(sc, data):
    counts = sc.textFile(os.path.join(data, "words")) \
        .flatMap(lambda line: line.split()) \
        .map(lambda w: (w, 1)) \
        .reduceByKey(add)
    top = counts.sortBy(lambda kv: kv[1], ascending=False).take(10)
    totals = counts.map(lambda kv: (1, kv[1])).reduce(lambda a, b: (a[0] + b[0], a[1] + b[1]))
    return {"top": top, "distinct": totals[0], "words": totals[1]}


def join(sc, rows):
    keys = max(rows // 5, 1)
    left = sc.range(0, rows, numSlices=8).map(lambda i: (i * 7919 % keys, i))
    right = sc.range(0, keys, numSlices=8).map(lambda k: (k, k % 97))
    joined = left.join(right)
    return {"sum": joined.map(lambda kv: kv[1][1]).sum(), "partitions": joined.getNumPartitions()}


def run(data, rows, workload, runs):
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("rdd-bench").getOrCreate()
    sc = spark.sparkContext
    sc.parallelize([1, 2], 2).count()  # the session and its workers are up
    for _ in range(runs):
        t0 = time.perf_counter()
        result = wordcount(sc, data) if workload == "wordcount" else join(sc, rows)
        dt = time.perf_counter() - t0
        print(json.dumps({"workload": workload, "seconds": round(dt, 3), "result": result}),
              flush=True)
    spark.stop()


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)
