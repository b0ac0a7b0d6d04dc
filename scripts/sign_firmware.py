"""Sign a firmware image for ``POST /api/v1/firmware/bundles`` (spec §18), or create the key pair.

    python scripts/sign_firmware.py keygen firmware_signing      # writes .key (private) and .pub (PEM)
    python scripts/sign_firmware.py sign firmware_signing.key image.bin   # prints the signature hex

Point ``FIRMWARE_SIGNING_PUBKEY_PATH`` at the ``.pub`` file; keep the ``.key`` off the SOC host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def keygen(stem: str) -> None:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    Path(f"{stem}.key").write_bytes(private)
    Path(f"{stem}.key").chmod(0o600)
    Path(f"{stem}.pub").write_bytes(public)
    print(f"wrote {stem}.key and {stem}.pub")


def sign(key_path: str, image: str) -> None:
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        sys.exit(f"{key_path} is not an Ed25519 private key")
    print(key.sign(Path(image).read_bytes()).hex())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("keygen").add_argument("stem")
    signer = sub.add_parser("sign")
    signer.add_argument("key")
    signer.add_argument("image")
    args = parser.parse_args()
    if args.command == "keygen":
        keygen(args.stem)
    else:
        sign(args.key, args.image)


if __name__ == "__main__":
    main()
