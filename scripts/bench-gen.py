#!/usr/bin/env python3
"""The generated monorepo of scripts/bench.sh, written into OUT:

- OUT/layout: an OCI image layout holding 400 distinct single-platform images
  named img0..img399 (the ten tags of a repository share their layer and
  config and differ by an annotation), and OUT/images.txt:
  `imgN bench/appRR:vT MANIFEST-PATH` per line, what each is pushed as
  (40 repositories x 10 tags);
- OUT/tree: 2,000 manifests (20 teams x 100 services), a Deployment with five
  containers each: 10,000 references to those 400 tags;
- OUT/big: 50,000 small manifests (500 directories x 100 files), every
  reference already pinned (the steady state `check` guards in CI).

Usage: bench-gen.py OUT REGISTRY-HOST [all|monorepo|big]
(monorepo: the layout, images.txt and the tree; big: the 50,000 files)
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

REPOS, TAGS = 40, 10


def blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def layer(text):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello")
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    # Compressed, so that skopeo pushes the layer as it is (it compresses a
    # plain tar on the way, and the other tags' manifests name this blob).
    return gzip.compress(out.getvalue(), mtime=0)


def images(out):
    layout = os.path.join(out, "layout")
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    refs, lines = [], []
    for r in range(REPOS):
        repo = f"bench/app{r:02d}"
        # One layer and config per repository; each tag's manifest differs
        # by an annotation, so the 400 digests are distinct.
        lay = blob(layout, layer(f"{repo}\n"))
        config = blob(layout, json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Labels": {"bench": repo}},
            "rootfs": {"type": "layers", "diff_ids": [lay["digest"]]},
        }).encode())
        for t in range(TAGS):
            i, tag = r * TAGS + t, f"v{t}"
            manifest = blob(layout, json.dumps({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **lay}],
                "annotations": {"bench.tag": f"{repo}:{tag}"},
            }).encode())
            refs.append({
                "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
                "annotations": {"org.opencontainers.image.ref.name": f"img{i}"},
            })
            lines.append(f"img{i} {repo}:{tag} blobs/sha256/{manifest['digest'][7:]}\n")
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": refs}, f)
    with open(os.path.join(out, "images.txt"), "w") as f:
        f.writelines(lines)


def deployment(name, images):
    containers = "".join(
        f"        - name: c{k}\n          image: {image}\n"
        f"          ports:\n            - containerPort: {8080 + k}\n"
        for k, image in enumerate(images)
    )
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 2\n"
        f"  selector:\n    matchLabels:\n      app: {name}\n  template:\n"
        f"    metadata:\n      labels:\n        app: {name}\n    spec:\n"
        f"      containers:\n{containers}"
    )


def tree(out, host):
    for n in range(2000):
        team, svc = n // 100, n % 100
        refs = []
        for k in range(5):
            i = (n * 5 + k) * 7 % (REPOS * TAGS)
            refs.append(f"{host}/bench/app{i // TAGS:02d}:v{i % TAGS}")
        d = os.path.join(out, "tree", f"team{team:02d}", f"svc{svc:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "deployment.yaml"), "w") as f:
            f.write(deployment(f"team{team:02d}-svc{svc:02d}", refs))


def big(out, host):
    for d in range(500):
        path = os.path.join(out, "big", f"d{d:03d}")
        os.makedirs(path, exist_ok=True)
        for n in range(100):
            i = (d * 100 + n) % (REPOS * TAGS)
            digest = hashlib.sha256(f"{d}/{n}".encode()).hexdigest()
            image = f"{host}/bench/app{i // TAGS:02d}@sha256:{digest} # v{i % TAGS}"
            with open(os.path.join(path, f"f{n:03d}.yaml"), "w") as f:
                f.write(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n"
                        f"  containers:\n    - name: main\n      image: {image}\n")


if __name__ == "__main__":
    out, host = sys.argv[1], sys.argv[2]
    part = sys.argv[3] if len(sys.argv) > 3 else "all"
    if part in ("all", "monorepo"):
        images(out)
        tree(out, host)
    if part in ("all", "big"):
        big(out, host)
