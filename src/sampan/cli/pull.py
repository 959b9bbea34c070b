"""`sampan pull NAME[:TAG|@DIGEST]`: ask the daemon to pull and render its progress."""

from __future__ import annotations

import io

from sampan import errdefs
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.progress import ProgressRenderer, StreamError


def run_pull(cli: Cli, o: Parsed) -> int:
    from sampan.client.auth import credentials_for, registry_auth_header
    from sampan.oci import reference

    if o.all_tags:
        raise StatusError("sampan: pulling all tagged images (--all-tags) is not supported", 1)
    try:
        ref = reference.parse_normalized_named(o.args[0])
    except errdefs.InvalidArgument as e:
        raise StatusError(str(e), 1) from None
    if ref.tag is None and ref.digest is None:
        ref = ref.with_tag(reference.DEFAULT_TAG)
        if not o.quiet:
            cli.write(f"Using default tag: {reference.DEFAULT_TAG}\n")
    config = cli.config()
    auth = registry_auth_header(ref.domain, config) if credentials_for(ref.domain, config) else None
    out = io.StringIO() if o.quiet else cli.out
    renderer = ProgressRenderer(out, tty=not o.quiet and cli.out_is_tty())
    stream = cli.client().pull(ref.name, ref.digest or ref.tag or "", platform=o.platform or None,
                               registry_auth=auth)
    try:
        for msg in stream:
            renderer.feed(msg)
    except StreamError as e:
        raise StatusError(e.message, 1) from None
    cli.write(f"{ref}\n")
    return 0


PULL = Spec(
    "[OPTIONS] NAME[:TAG|@DIGEST]",
    "Download an image from a registry",
    [
        Flag("all-tags", "a", "bool", "Download all tagged images in the repository"),
        Flag("disable-content-trust", "", "bool", "Skip image verification", default=True),
        Flag("platform", "", "string", "Set platform if server is multi-platform capable"),
        Flag("quiet", "q", "bool", "Suppress verbose output"),
    ],
    run_pull,
    min_args=1,
    max_args=1,
)
