"""The engine of a Hadoop-streaming MapReduce job, written once for the local runner and the pods.

A job flows through these modules (README "Architecture" has the picture):

  settings    the job's settings (JobConf) from Hadoop properties; exit codes and defaults
  layout      every path of a job directory and an output directory
  splits      inputs -> split plan (Hadoop's FileInputFormat rules); reading a split's records
  keys        key/value split, partitioners, the sort key of the job's comparator
  tasks       starting user commands: environment, working directory, stderr counters, timeouts
  maptask     map -> partition/sort/combine -> commit one sorted data file and its index
  shuffle     wait for the map stage, fetch partition byte ranges, merge with bounded fan-in
  reducetask  reduce one partition -> output format -> commit, then commit the job
  commit      atomic, durable renames; the job commit (_SUCCESS)
  download    the input pre-stage (URLs, the generated sample)
  aggregate   Hadoop's `aggregate` reducer/combiner
  cli         the engine's steps as a command line (`python3 -m mapreduce STEP`)
  local       run-local: a whole job as processes on this machine
"""
