#!/usr/bin/python3
"""A real SMTP server for the ticket lab tests (Debian's python3-aiosmtpd).

Listens on --listen:--port in the lab's server namespace and writes every message it
accepts, exactly as received, to --maildir as NANOSECONDS.eml (written to a hidden temp
file, then renamed, so a reader never sees half a message). With --cert/--key it offers
STARTTLS and requires it; with --user and --password-file it requires AUTH (PLAIN or
LOGIN, only inside TLS). Prints "ready" once it accepts connections.
"""

import argparse
import os
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--listen", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--maildir", required=True)
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--user")
parser.add_argument("--password-file")
args = parser.parse_args()


class Maildir:
    async def handle_DATA(self, server, session, envelope):
        stamp = time.time_ns()
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        tmp = os.path.join(args.maildir, f".{stamp}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(args.maildir, f"{stamp}.eml"))
        return "250 OK queued as " + str(stamp)


kwargs = {}
if args.cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    kwargs.update(tls_context=context, require_starttls=True)
if args.user:
    with open(args.password_file) as f:
        password = f.read().strip()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok)

    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)

controller = Controller(Maildir(), hostname=args.listen, port=args.port, **kwargs)
controller.start()
print("ready", flush=True)
threading.Event().wait()
