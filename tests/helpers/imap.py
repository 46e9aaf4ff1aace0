"""A minimal IMAP4rev1 server on loopback for tests (Debian's dovecot would need root and
a system service): one folder, one account, and the commands imaplib sends as RFC 3501
describes them: CAPABILITY, LOGIN, SELECT, SEARCH (ALL / UNSEEN), FETCH of RFC822,
BODY[] or BODY.PEEK[] (the first two set \\Seen, PEEK does not), STORE ±FLAGS, NOOP,
LOGOUT. Anything else is answered BAD."""
from __future__ import annotations

import re
import socketserver
import threading

from .smtp import free_port

ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(line: bytes) -> list[bytes]:
    return [re.sub(rb"\\(.)", rb"\1", q) if q or not a else a for q, a in ARG.findall(line)]


class ImapServer:
    """`messages`: a list of [raw bytes, set of flags], numbered from 1 as IMAP does."""

    def __init__(self, username: str = "bounces", password: str = "s3cret pass",
                 folder: str = "INBOX"):
        self.username, self.password, self.folder = username, password, folder
        self.messages: list[list] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.server = None

    def add(self, raw: bytes) -> None:
        with self.lock:
            self.messages.append([raw, set()])

    def seen(self) -> list[bool]:
        with self.lock:
            return ["\\Seen" in flags for _, flags in self.messages]

    @property
    def url(self) -> str:
        return f"imap://{self.username}:{self.password.replace(' ', '%20')}@127.0.0.1:" \
               f"{self.port}/{self.folder}"

    def start(self) -> "ImapServer":
        imap = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.state = "new"
                self.say(b"* OK IMAP4rev1 test server ready")
                while line := self.rfile.readline():
                    tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                    command, _, args = rest.partition(b" ")
                    if not imap.answer(self, tag, command.upper(), args):
                        return

            def say(self, data: bytes):
                self.wfile.write(data + b"\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, conn, tag: bytes, command: bytes, args: bytes) -> bool:
        """Answer one command; False after LOGOUT."""
        ok = tag + b" OK " + command + b" completed"
        if command == b"CAPABILITY":
            conn.say(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN")
        elif command == b"NOOP":
            pass
        elif command == b"LOGOUT":
            conn.say(b"* BYE logging out")
            conn.say(ok)
            return False
        elif command == b"LOGIN":
            given = _args(args)
            if given != [self.username.encode(), self.password.encode()]:
                conn.say(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials")
                return True
            conn.state = "auth"
        elif conn.state == "new":
            conn.say(tag + b" BAD log in first")
            return True
        elif command == b"SELECT":
            if _args(args) != [self.folder.encode()]:
                conn.say(tag + b" NO [NONEXISTENT] no such folder")
                return True
            conn.state = "selected"
            with self.lock:
                conn.say(b"* %d EXISTS" % len(self.messages))
            conn.say(b"* 0 RECENT")
            conn.say(b"* FLAGS (\\Seen)")
            ok = tag + b" OK [READ-WRITE] SELECT completed"
        elif conn.state != "selected":
            conn.say(tag + b" BAD select a folder first")
            return True
        elif command == b"SEARCH":
            what = args.upper().split()
            with self.lock:
                found = [str(n).encode() for n, (_, flags) in enumerate(self.messages, 1)
                         if what == [b"ALL"] or (what == [b"UNSEEN"] and "\\Seen" not in flags)]
            if what not in ([b"ALL"], [b"UNSEEN"]):
                conn.say(tag + b" BAD only ALL and UNSEEN here")
                return True
            conn.say(b" ".join([b"* SEARCH", *found]))
        elif command == b"FETCH":
            number, _, item = args.partition(b" ")
            item = item.strip(b"()").upper()
            message = self._message(number)
            if message is None or item not in (b"RFC822", b"BODY[]", b"BODY.PEEK[]"):
                conn.say(tag + b" BAD no such message or item")
                return True
            raw, flags = message
            if item != b"BODY.PEEK[]":
                with self.lock:
                    flags.add("\\Seen")
            name = b"RFC822" if item == b"RFC822" else b"BODY[]"
            conn.say(b"* %s FETCH (%s {%d}" % (number, name, len(raw)))
            conn.wfile.write(raw + b")\r\n")
        elif command == b"STORE":
            number, _, rest = args.partition(b" ")
            how, _, flags_given = rest.partition(b" ")
            message = self._message(number)
            if message is None or how.upper() not in (b"+FLAGS", b"-FLAGS"):
                conn.say(tag + b" BAD no such message or change")
                return True
            named = {f.decode() for f in flags_given.strip(b"()").split()}
            with self.lock:
                if how.upper() == b"+FLAGS":
                    message[1] |= named
                else:
                    message[1] -= named
                shown = " ".join(sorted(message[1])).encode()
            conn.say(b"* %s FETCH (FLAGS (%s))" % (number, shown))
        else:
            conn.say(tag + b" BAD unknown command")
            return True
        conn.say(ok)
        return True

    def _message(self, number: bytes):
        with self.lock:
            if number.isdigit() and 1 <= int(number) <= len(self.messages):
                return self.messages[int(number) - 1]
        return None
