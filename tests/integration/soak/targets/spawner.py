"""Test target (any OS): two children and an orphaned grandchild, then idles for 10 minutes.

Writes its own pid and all of theirs to argv[1] (JSON, atomically) once the tree is complete.
The grandchild's parent exits at once: on Linux the orphan is reparented to soakctl (the
subreaper), on Windows it is reparented to nobody and only the job object knows it.
"""

import json
import os
import subprocess
import sys
import time

out = sys.argv[1]
sleep = [sys.executable, "-c", "import time; time.sleep(600)"]
children = [subprocess.Popen(sleep, stdin=subprocess.DEVNULL).pid for _ in range(2)]
middle = subprocess.Popen(
    [sys.executable, "-c",
     "import subprocess, sys\n"
     "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
     " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
     "print(p.pid, flush=True)\n"],
    stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
assert middle.stdout is not None
grandchild = int(middle.stdout.readline())
middle.wait()

tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump({"target": os.getpid(), "children": children, "grandchild": grandchild,
               "middle": middle.pid}, f)
os.replace(tmp, out)
time.sleep(600)
