#!/usr/bin/env python3
"""Writes certs/thumbprints.json (SHA-1 / SHA-256 of the DER certificate, uppercase hex)."""
import os
os.chdir(os.path.dirname(os.path.abspath(__file__)))
import glob, hashlib, json, os, re, base64, subprocess
KEY_OF = {"attacker-clone-idp-a": "attacker"}  # the clone carries the attacker's key
out = {}
for pem in sorted(glob.glob("*.pem")):
    text = open(pem).read()
    b64 = "".join(re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S).group(1).split())
    der = base64.b64decode(b64)
    info = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-subject", "-startdate", "-enddate"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    out[pem[:-4]] = {
        "cert": "certs/" + pem,
        "key": "certs/" + KEY_OF.get(pem[:-4], pem[:-4]) + ".key",
        "subject": info[0].split("=", 1)[1].strip(),
        "not_before": info[1].split("=", 1)[1],
        "not_after": info[2].split("=", 1)[1],
        "sha1": hashlib.sha1(der).hexdigest().upper(),
        "sha256": hashlib.sha256(der).hexdigest().upper(),
    }
json.dump(out, open("thumbprints.json", "w"), indent=2)
open("thumbprints.json", "a").write("\n")
