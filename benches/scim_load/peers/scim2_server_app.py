"""The PyPI peer of benches/scim_load.rs: python-scim's scim2-server (in-memory storage, the
same application its `scim2-server` command builds, with a bearer token) served by waitress.

Usage: python scim2_server_app.py TOKEN THREADS
Listens on 127.0.0.1 on an ephemeral port and prints `listening PORT` on stdout; SCIM base /v2.
"""

import secrets
import sys

import waitress
from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME
from scim2_server.testserver.application import BearerTokenApplication
from scim2_server.utils import load_default_resource_types
from scim2_server.utils import load_default_schemas
from scim2_server.utils import load_default_service_provider_config


def main() -> None:
    token, threads = sys.argv[1], int(sys.argv[2])
    config = load_default_service_provider_config()
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    service = ScimService(provider, secret=secrets.token_urlsafe(32))
    app = BearerTokenApplication(InMemoryStorage(), provider, service=service, bearer_tokens=[token])
    server = waitress.create_server(
        app, host="127.0.0.1", port=0, threads=threads, connection_limit=1000, ident=None
    )
    print(f"listening {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
