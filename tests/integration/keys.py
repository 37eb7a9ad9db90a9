# SPDX-License-Identifier: Apache-2.0
"""Identity keys for one integration test's processes (security.mode = "aead", DESIGN §4.12).

Each name (a gateway side, a client) gets a private key file made by repgate-key (mode 0600,
in the test's workdir) and its public key. The profiles' peers are told the public keys with
--set peers.[i].pubkey=...; a client gets --key FILE and --gateway ID@ADDR:PORT,PUBKEY.
"""
import subprocess
from pathlib import Path


class Keys:
    def __init__(self, repgate, workdir):
        self.tool = Path(repgate).parent / "repgate-key"
        self.dir = Path(workdir) / "keys"
        self.made = {}

    def _make(self, name):
        self.dir.mkdir(mode=0o700, exist_ok=True)
        path = self.dir / f"{name}.key"
        if not path.exists():
            subprocess.run([str(self.tool), "keygen", str(path)], check=True, timeout=20,
                           stdin=subprocess.DEVNULL, capture_output=True)
        pub = subprocess.run([str(self.tool), "pubkey", str(path)], check=True, timeout=20,
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True).stdout.strip()
        self.made[name] = (path, pub)

    def path(self, name):
        if name not in self.made:
            self._make(name)
        return self.made[name][0]

    def pub(self, name):
        if name not in self.made:
            self._make(name)
        return self.made[name][1]

    def gateway_sets(self, me, peers):
        """--set values for gateway `me` whose profile's peers.[i] are the names in peers."""
        return [f"security.key={self.path(me)}"] + [
            f"peers.[{i}].pubkey={self.pub(name)}" for i, name in enumerate(peers)]
