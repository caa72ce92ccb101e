"""Envelope encryption: data keys, key-encryption keys, the ciphertext format and rotation.

This package owns the byte formats of ciphertexts, wrapped keys and key files (specified in
``docs/crypto.md``), the algorithm suites (AES-256-GCM, SM4-GCM, both layered) and the KEK
implementations (key file, environment variable, KMS plug-in registry).

It leaves to callers: where wrapped keys are stored (the key store), which data key belongs to which
conversation or customer, what ``context`` to bind (the row's id), and destroying a data key, which
means deleting every stored wrapped copy of it (crypto-shredding).

Typical use::

    kek = LocalKeyFile(path)
    key = generate_data_key()                     # one per conversation
    row = kek.wrap(key)                           # store this, never the key
    blob = encrypt(text, key, context=message_id)
    key = kek.unwrap(row, peek(blob).key_id, peek(blob).suite)
    text = decrypt(blob, key, context=message_id)
"""

from chatkeeper.crypto.envelope import (
    Header,
    decrypt,
    derived_nonces,
    encrypt,
    header_prefix,
    keyed_mac,
    peek,
    reseal,
    split,
    subkey,
)
from chatkeeper.crypto.environment import EnvironmentKek
from chatkeeper.crypto.errors import CryptoError
from chatkeeper.crypto.kek import KeyEncryptionKey, WrappedHeader, peek_wrapped, rewrap
from chatkeeper.crypto.keyfile import LocalKeyFile, create_key_file
from chatkeeper.crypto.keys import DataKey, generate_data_key
from chatkeeper.crypto.kms import KmsClient, KmsKek, open_kms, register_kms
from chatkeeper.crypto.suites import AES_256_GCM, AES_256_GCM_SM4_GCM, SM4_GCM, SUITES

__all__ = [
    "AES_256_GCM",
    "AES_256_GCM_SM4_GCM",
    "SM4_GCM",
    "SUITES",
    "CryptoError",
    "DataKey",
    "EnvironmentKek",
    "Header",
    "KeyEncryptionKey",
    "KmsClient",
    "KmsKek",
    "LocalKeyFile",
    "WrappedHeader",
    "create_key_file",
    "decrypt",
    "derived_nonces",
    "encrypt",
    "generate_data_key",
    "header_prefix",
    "keyed_mac",
    "open_kms",
    "peek",
    "peek_wrapped",
    "register_kms",
    "reseal",
    "rewrap",
    "split",
    "subkey",
]
