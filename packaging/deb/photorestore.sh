#!/bin/sh
# /usr/bin/photorestore: runs the frozen app installed in /opt/photorestore.
# The bundle is found relative to this script (not by an absolute path), so the same package also
# runs from a scratch root made with `dpkg -x` or `dpkg --instdir`, which is how the smoke test uses it.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../../opt/photorestore/photorestore" "$@"
