"""``python -m judge`` runs the command line (the zygote first: ``launch``)."""

import sys

from .launch import main

sys.exit(main())
