"""Word count as an mrjob user writes it: the benchmark's mrjob peer (local runner).

A word is what str.split() separates, as in our mapper. Input lines are read raw
(RawValueProtocol, mrjob's default input); the final output is `word<TAB>count`
(RawProtocol) so that it compares with every other tool's; between steps mrjob keeps its
default JSON protocol, as users have it.
"""
from mrjob.job import MRJob
from mrjob.protocol import RawProtocol


class MRWordCount(MRJob):
    OUTPUT_PROTOCOL = RawProtocol

    def mapper(self, _, line):
        for word in line.split():
            yield word, 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, str(sum(counts))


if __name__ == "__main__":
    MRWordCount.run()
