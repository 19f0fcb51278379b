"""Signed bundles against an independent JOSE implementation (jwcrypto).

  jws_interop.py verify BUNDLE PUBKEY   jwcrypto verifies BUNDLE.jws (Accord's detached
                                        compact JWS) over BUNDLE's bytes with the key
                                        `accord ledger key` wrote; and refuses it over
                                        the bytes with one byte changed.
  jws_interop.py sign BUNDLE PUBKEY     jwcrypto signs BUNDLE (detached, EdDSA, a fresh
                                        Ed25519 key), writing BUNDLE.jws and PUBKEY in
                                        Accord's public key format, for `accord ingest
                                        --verify-with` to check.
"""
import base64
import hashlib
import json
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import JWException


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_key(path):
    line = [l for l in open(path) if l.strip() and not l.startswith("#")][0]
    prefix = "accord-ledger-key ed25519 "
    assert line.startswith(prefix), line
    return bytes.fromhex(line[len(prefix):].strip())


def verify(bundle, pubkey):
    raw = public_key(pubkey)
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=b64(raw))
    token = open(bundle + ".jws").read().strip()
    payload = open(bundle, "rb").read()
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA", detached_payload=payload)
    header = signed.jose_header
    assert header["alg"] == "EdDSA", header
    assert header["kid"] == hashlib.sha256(raw).hexdigest(), header
    changed = bytearray(payload)
    changed[len(changed) // 2] ^= 1
    refused = jws.JWS()
    refused.deserialize(token)
    try:
        refused.verify(key, alg="EdDSA", detached_payload=bytes(changed))
    except JWException:
        pass
    else:
        sys.exit("FAIL: jwcrypto accepted a changed bundle")
    print(f"jwcrypto verified Accord's JWS over {len(payload)} bytes (kid {header['kid'][:16]}...)")


def sign(bundle, pubkey):
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    raw = base64.urlsafe_b64decode(key.export_public(as_dict=True)["x"] + "==")
    kid = hashlib.sha256(raw).hexdigest()
    payload = open(bundle, "rb").read()
    signed = jws.JWS(payload)
    signed.add_signature(key, alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": kid}))
    signed.detach_payload()
    open(bundle + ".jws", "w").write(signed.serialize(compact=True) + "\n")
    open(pubkey, "w").write(f"accord-ledger-key ed25519 {raw.hex()}\n")
    print(f"jwcrypto signed {len(payload)} bytes (kid {kid[:16]}...)")


{"verify": verify, "sign": sign}[sys.argv[1]](sys.argv[2], sys.argv[3])
