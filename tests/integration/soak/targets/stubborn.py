"""Test target: it and its child ignore SIGTERM; only SIGKILL ends them. Pids go to argv[1]."""

import json
import os
import signal
import subprocess
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(
    [
        sys.executable,
        "-c",
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('child up', flush=True)\n"
        "time.sleep(600)\n",
    ]
)
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump({"target": os.getpid(), "child": child.pid}, f)
os.replace(tmp, sys.argv[1])
while True:
    time.sleep(1)
