import sys

from rtconform.cli import main

sys.exit(main())
