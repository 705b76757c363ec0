"""Word count in PySpark, local[2]: the benchmark's Spark peers.

usage: spark_wordcount.py {rdd,df} INPUT OUTPUT_DIR

rdd: the classic Python word count (flatMap(str.split) / reduceByKey), so words are what
     str.split() separates, as in our mapper; Python workers do the splitting.
df:  the DataFrame way (split on the regex [ \\t\\n\\x0B\\f\\r]+, explode, groupBy,
     count), all in the JVM. It splits on ASCII whitespace only, like tr and awk, so it is
     compared only on text without other whitespace (the harness checks).
Output: text part files of `word<TAB>count` lines.
"""
import os
import sys
from operator import add

# The Python workers run under this interpreter (PySpark's default is whatever `python3`
# is first on PATH, which may be another build than the one the benchmark measures).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from pyspark.sql import SparkSession, functions as F


def main(mode, source, output):
    spark = (SparkSession.builder.master("local[2]").appName(f"wordcount-{mode}")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "2g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    if mode == "rdd":
        (spark.sparkContext.textFile(source)
         .flatMap(str.split)
         .map(lambda word: (word, 1))
         .reduceByKey(add)
         .map(lambda pair: f"{pair[0]}\t{pair[1]}")
         .saveAsTextFile(output))
    elif mode == "df":
        words = (spark.read.text(source)
                 .select(F.explode(F.split(F.col("value"), r"[ \t\n\x0B\f\r]+")).alias("w"))
                 .where(F.col("w") != ""))
        (words.groupBy("w").count()
         .select(F.concat_ws("\t", F.col("w"), F.col("count").cast("string")))
         .write.text(output))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    spark.stop()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
