"""Two-factor secrets at rest: encrypted with KMS (the template's key on AWS,
the local stack's own key in moto), bound by encryption context to the one
account, so a ciphertext copied onto another account does not decrypt. We
call KMS; we write no cipher of our own. The secret is never logged."""
import base64

from ..core import config
from ..core import clients


def _client():
    return clients.service_client("kms")


def _context(school_id, user_id):
    return {"purpose": "mfa", "school_id": school_id, "user_id": user_id}


def seal(secret, school_id, user_id):
    reply = _client().encrypt(KeyId=config.mfa_key_id(), Plaintext=secret.encode("ascii"),
                              EncryptionContext=_context(school_id, user_id))
    return base64.b64encode(reply["CiphertextBlob"]).decode("ascii")


def unseal(sealed, school_id, user_id):
    reply = _client().decrypt(CiphertextBlob=base64.b64decode(sealed),
                              EncryptionContext=_context(school_id, user_id))
    return reply["Plaintext"].decode("ascii")
