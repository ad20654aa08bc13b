"""A one-node SLURM cluster on localhost for the tests: munge + slurmctld + slurmd, no accounting, no GPU gres.

The node advertises 16 CPUs and 64 GB (``config_overrides``) so that a bundled group of small jobs fits as
it would on a real compute node; the jobs themselves are tiny.

Installs Debian's slurm-wlm parts when missing (root only). The plugin's documented options for a cluster
without accounting are used: ``slurm-no-account`` and ``slurm-status-command: squeue`` (MinJobAge keeps
finished jobs visible to squeue); that jobs really went through sbatch is read from the controller's log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

MARKER = "# memprint test cluster"
SLURM_CONF = Path("/etc/slurm/slurm.conf")
PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]


class Unavailable(Exception):
    """SLURM cannot be set up on this machine (not root, no package registry, a real SLURM configured)."""


def _run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def install() -> None:
    if all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "sbatch", "munged")):
        return
    if not os.environ.get("MEMPRINT_TEST_INSTALL_SLURM"):
        raise Unavailable("SLURM is not installed; MEMPRINT_TEST_INSTALL_SLURM=1 lets the test apt-get install it")
    if os.geteuid() != 0:
        raise Unavailable("installing slurm-wlm needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        result = _run(*cmd, env=env)
        if result.returncode:
            raise Unavailable(f"{' '.join(cmd)} failed: {result.stderr[-500:]}")


def write_config(root: Path) -> Path:
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
        raise Unavailable(f"{SLURM_CONF} belongs to a real SLURM installation; not touching it")
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(f"""{MARKER}: written by tests/slurm_cluster.py
ClusterName=memprint-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=3600
SlurmctldPort=16817
SlurmdPort=16818
NodeName={host} NodeAddr=127.0.0.1 CPUs=16 RealMemory=64000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    return root / "log" / "slurmctld.log"


def start(root: Path) -> Path:
    """Install, configure and start the cluster; return the controller's log file."""
    install()
    controller_log = write_config(root)
    stop()
    if _run("pgrep", "-x", "munged").returncode:
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        result = _run("runuser", "-u", "munge", "--", "munged")
        if result.returncode:
            raise RuntimeError(f"munged did not start: {result.stderr}")
    for daemon in (["slurmctld", "-i"], ["slurmd"]):
        result = _run(*daemon)
        if result.returncode:
            raise RuntimeError(f"{daemon[0]} did not start: {result.stderr}")
    deadline = time.time() + 60
    while time.time() < deadline:
        state = _run("sinfo", "-h", "-o", "%T").stdout.strip()
        if state == "idle":
            return controller_log
        time.sleep(1)
    raise RuntimeError(f"the SLURM node did not become idle (state {state!r}); see {root}/log")


def stop() -> None:
    for daemon in ("slurmd", "slurmctld"):
        _run("pkill", "-x", daemon)
    time.sleep(1)


def submitted_job_ids(controller_log: Path) -> list[int]:
    """Job ids the controller accepted through sbatch (its _slurm_rpc_submit_batch_job lines)."""
    ids = []
    for line in controller_log.read_text().splitlines():
        if "_slurm_rpc_submit_batch_job" in line and "JobId=" in line:
            ids.append(int(line.split("JobId=")[1].split()[0]))
    return ids
