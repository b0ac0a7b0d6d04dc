"""The attestation crypto of spec §18, shared by the verifier and the device simulator.

Message ``f"{device_id}{firmware_hash}{boot_count}{nonce}"`` (UTF-8, no delimiters), ECDSA P-256
over its SHA-256, DER signature as hex.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_ALGORITHM = ec.ECDSA(hashes.SHA256())


def attestation_message(device_id: str, firmware_hash: str, boot_count: int, nonce: str) -> bytes:
    return f"{device_id}{firmware_hash}{boot_count}{nonce}".encode()


def load_device_key(pem: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM; ValueError for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PEM public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 public key")
    return key


def verify_signature(pem: str, message: bytes, signature_hex: str) -> bool:
    try:
        load_device_key(pem).verify(bytes.fromhex(signature_hex), message, SIGNATURE_ALGORITHM)
    except (InvalidSignature, ValueError):
        return False
    return True


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    return key.sign(message, SIGNATURE_ALGORITHM).hex()
