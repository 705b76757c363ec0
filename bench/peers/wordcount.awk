# Word count in awk (mawk or gawk, run with LC_ALL=C): the C-speed anchor.
# Fields are awk's default: runs of spaces, tabs and newlines.
{ for (i = 1; i <= NF; i++) count[$i]++ }
END { for (word in count) printf "%s\t%d\n", word, count[word] }
