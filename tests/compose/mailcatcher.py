"""A mail catcher for the compose tests: an SMTP server that accepts every message and prints
it as one JSON line (`docker compose logs mail`). Standard library only, so it runs in the
app's image without the dev requirements."""

from __future__ import annotations

import argparse
import asyncio
import json


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async def reply(line: str) -> None:
        writer.write(f"{line}\r\n".encode())
        await writer.drain()

    await reply("220 mailcatcher ready")
    envelope: dict[str, object] = {"to": []}
    while raw := await reader.readline():
        command = raw.decode(errors="replace").strip()
        verb = command.split(" ", 1)[0].upper()
        if verb in ("HELO", "EHLO"):
            await reply("250 mailcatcher")
        elif verb == "MAIL":
            envelope = {"from": command[10:].strip("<> "), "to": []}
            await reply("250 OK")
        elif verb == "RCPT":
            recipients = envelope["to"]
            assert isinstance(recipients, list)
            recipients.append(command[8:].strip("<> "))
            await reply("250 OK")
        elif verb == "DATA":
            await reply("354 end with <CRLF>.<CRLF>")
            lines = []
            while (line := await reader.readline()) not in (b".\r\n", b".\n", b""):
                # SMTP's dot-stuffing: a line the client began with "." was sent as "..".
                lines.append(line.decode(errors="replace").removeprefix("."))
            envelope["message"] = "".join(lines)
            print(json.dumps({"logger": "mailcatcher", **envelope}), flush=True)
            await reply("250 OK")
        elif verb == "QUIT":
            await reply("221 bye")
            break
        else:
            await reply("250 OK")
    writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_session, "0.0.0.0", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    asyncio.run(main(parser.parse_args().port))
