"""`python3 -S -m mapreduce STEP ...`: one step of a job (see mapreduce.cli)."""

import sys

from mapreduce.cli import main

sys.exit(main())
