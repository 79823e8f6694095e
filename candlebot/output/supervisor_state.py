"""The supervisor's view of a fleet: each program's state, from supervisord's XML-RPC interface.

``unix:///run/supervisor.sock`` or ``http://127.0.0.1:9001``, or the
``supervisord.conf`` that names them (``[supervisorctl] serverurl``, else
``[unix_http_server] file``, else ``[inet_http_server] port``). The transport is
supervisor's own (``supervisor.xmlrpc``), the one ``supervisorctl`` uses.
"""

from __future__ import annotations

import configparser
import socket
import xmlrpc.client
from pathlib import Path

from candlebot.errors import ConfigError

TIMEOUT_S = 3.0


def server_url(url: str | None, config: str | None) -> str | None:
    if url is not None:
        if not url.startswith(("unix://", "http://", "https://")):
            raise ConfigError(f"--supervisor-url must start with unix://, http:// or https://, got {url!r}")
        return url
    if config is None:
        return None
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        if not parser.read(config, encoding="utf-8"):
            raise ConfigError(f"--supervisor-config: cannot read {config}")
    except configparser.Error as exc:
        raise ConfigError(f"--supervisor-config: {config} is not a supervisor config ({exc.message.splitlines()[0]})") from None
    except UnicodeDecodeError:  # a binary file, or another file given by mistake
        raise ConfigError(f"--supervisor-config: {config} is not a supervisor config (not UTF-8 text)") from None
    here = str(Path(config).resolve().parent)
    if parser.has_option("supervisorctl", "serverurl"):
        return parser.get("supervisorctl", "serverurl").replace("%(here)s", here)
    if parser.has_option("unix_http_server", "file"):
        return "unix://" + parser.get("unix_http_server", "file").replace("%(here)s", here)
    if parser.has_option("inet_http_server", "port"):
        port = parser.get("inet_http_server", "port")
        return f"http://{port if ':' in port else '127.0.0.1:' + port}"
    raise ConfigError(f"--supervisor-config: {config} names no server ([supervisorctl] serverurl or [unix_http_server] file)")


def program_states(url: str) -> dict[str, str]:
    """Program name (and ``group:name``) -> state (RUNNING, STOPPED, BACKOFF, FATAL, ...); ``OSError`` when unreachable."""
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, url)
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1" if url.startswith("unix://") else url, transport=transport)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(TIMEOUT_S)
    try:
        infos = proxy.supervisor.getAllProcessInfo()
    except xmlrpc.client.Fault as exc:
        raise OSError(f"supervisor refused: {exc.faultString}") from None
    finally:
        socket.setdefaulttimeout(previous)
    states: dict[str, str] = {}
    for info in infos:
        state = info["statename"] + (f" ({info['description']})" if info["statename"] != "RUNNING" and info.get("description") else "")
        states[info["name"]] = state
        states[f"{info['group']}:{info['name']}"] = state
    return states
