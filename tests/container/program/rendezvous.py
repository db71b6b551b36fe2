"""A torch-style rendezvous over plain TCP, as torch.distributed's env:// init does it.

The master (ML_IS_MASTER=true, which must agree with ML_NODE_RANK=0) listens on
MASTER_ADDR:MASTER_PORT, bound to the address MASTER_ADDR resolves to (so the name must
be its own), and waits for every other node; each other node connects there and sends
its ML_NODE_RANK and ML_CURRENT_HOST, and the master answers with its own. The master
checks that the ranks 1..ML_NUM_NODES-1 each came once and that each sender's host is
ML_HOSTS[rank]. What each side saw goes to <dir>/rendezvous.json (argv[1], default
/opt/ml/model), read by tests/container_test.ts; any mismatch exits 4.
"""
import json
import os
import socket
import sys
import time

SEEN = [
    "CHAMELEON_CONTEXT", "ML_HOSTS", "ML_CURRENT_HOST", "ML_NUM_NODES", "ML_NODE_RANK",
    "ML_IS_MASTER", "ML_MASTER_ADDR", "ML_MASTER_PORT", "MASTER_ADDR", "MASTER_PORT",
    "RANK", "WORLD_SIZE", "NODE_RANK", "PET_NNODES", "PET_NODE_RANK", "PET_MASTER_ADDR",
    "PET_MASTER_PORT", "PET_NPROC_PER_NODE", "SM_HOSTS", "SM_CURRENT_HOST",
    "NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME",
]
PATIENCE = 120


def fail(message):
    print(f"rendezvous: {message}", file=sys.stderr)
    sys.exit(4)


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            fail(f"connection closed after {data!r}")
        data += chunk
    return json.loads(data)


def send_line(conn, value):
    conn.sendall(json.dumps(value).encode() + b"\n")


def master(me, addr, port, nodes, hosts):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((socket.gethostbyname(addr), port))
    server.listen()
    server.settimeout(PATIENCE)
    received = []
    while len(received) < nodes - 1:
        conn, peer = server.accept()
        with conn:
            conn.settimeout(PATIENCE)
            hello = read_line(conn)
            send_line(conn, me)
        received.append({**hello, "peer": peer[0]})
    ranks = sorted(int(r["rank"]) for r in received)
    if ranks != list(range(1, nodes)):
        fail(f"ranks {ranks}, expected 1..{nodes - 1}")
    for r in received:
        if hosts[int(r["rank"])] != r["host"]:
            fail(f"rank {r['rank']} says it is {r['host']}, ML_HOSTS says {hosts[int(r['rank'])]}")
    return {"received": received}


def worker(me, addr, port):
    # The host wait has run: the master's name resolves (a failure here is no retry case);
    # the master may not listen yet, so the connection is retried.
    target = socket.gethostbyname(addr)
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            conn = socket.create_connection((target, port), timeout=5)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                fail(f"no master at {addr}:{port} ({target}): {e}")
            time.sleep(0.2)
    with conn:
        conn.settimeout(PATIENCE)
        send_line(conn, me)
        return {"answer": read_line(conn), "masterIp": target}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/opt/ml/model"
    env = {k: os.environ.get(k) for k in SEEN}
    hosts = json.loads(os.environ["ML_HOSTS"])
    rank = os.environ["ML_NODE_RANK"]
    is_master = os.environ["ML_IS_MASTER"] == "true"
    if is_master != (rank == "0"):
        fail(f"ML_IS_MASTER={os.environ['ML_IS_MASTER']} with ML_NODE_RANK={rank}")
    me = {"rank": rank, "host": os.environ["ML_CURRENT_HOST"]}
    addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    if is_master:
        result = master(me, addr, port, int(os.environ["ML_NUM_NODES"]), hosts)
    else:
        result = worker(me, addr, port)
    with open(os.path.join(out, "rendezvous.json"), "w") as f:
        json.dump({"uid": os.getuid(), "env": env, **result}, f)
    print(f"rendezvous: rank {rank} done")


main()
