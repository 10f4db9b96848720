"""``jupyter smops lifecycle-config ...`` and ``jupyter smops admin ...``: the administrator's verbs.

``register(subparsers)`` adds both to the main CLI's grammar; each parsed command carries its
``func(args)``, which returns a printable result (``str()``) with ``to_dict()`` for ``--json``.
Every command that changes AWS takes ``--dry-run``: it then makes no AWS call and prints the
calls it would make.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from .core.errors import BadRequest, SmopsError


class Script:
    """The LCC script as ``print`` shows it (text, or its base64 content)."""

    def __init__(self, text: str, content: str, as_base64: bool):
        self.text, self.content, self.as_base64 = text, content, as_base64

    def __str__(self) -> str:
        return self.content if self.as_base64 else self.text.rstrip("\n")

    def to_dict(self) -> dict:
        return {"script": self.text, "base64_length": len(self.content), "limit": 16384}


class Document:
    """A policy document to print."""

    def __init__(self, document: dict):
        self.document = document

    def __str__(self) -> str:
        from .core.admin.policies import to_json

        return to_json(self.document)

    def to_dict(self) -> dict:
        return self.document


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_caller(args: argparse.Namespace):
    """The caller a command uses: a recorder for --dry-run, else boto3 (tests replace this)."""
    from .core.admin.calls import LiveCaller
    from .core.admin.plan import PlanCaller

    if getattr(args, "dry_run", False):
        return PlanCaller(progress=_progress)
    return LiveCaller(region=_region(args), progress=_progress)


def _region(args) -> str:
    if getattr(args, "region", None):
        return args.region
    from .core.config import SmopsConfig

    return SmopsConfig().region


# -- lifecycle-config ------------------------------------------------------------------------
def _script(args) -> str:
    from .core.admin.lcc_script import render_script

    append = None
    if getattr(args, "append", None):
        try:
            with open(args.append, encoding="utf-8") as fh:
                append = fh.read()
        except OSError as exc:
            raise BadRequest(f"Cannot read --append {args.append}: {exc.strerror}.") from exc
    return render_script(version=args.version, wheel=args.wheel, append=append)


def _lcc_name(args) -> str:
    from .core.admin.lcc_script import default_name, parse_wheel

    if getattr(args, "name", None):
        return args.name
    version = getattr(args, "version", None)
    if getattr(args, "wheel", None):
        version = parse_wheel(args.wheel)[1]
    return default_name(version)


def _lcc(args) -> Any:
    from .core.admin import lifecycle, studio
    from .core.admin.lcc_script import encode

    action = args.lcc_action
    if action == "print":
        text = _script(args)
        return Script(text, encode(text), args.base64)
    caller = make_caller(args)
    if action == "create":
        tags = tuple(_tag(t) for t in args.tag or [])
        return _with_plan(lifecycle.create(caller, _lcc_name(args), _script(args), tags), caller)
    target = args.arn or _lcc_name(args)
    if action == "delete":
        return _with_plan(lifecycle.delete(caller, target if not target.startswith("arn:") else target.rsplit("/", 1)[-1]), caller)
    domain_id = studio.domain_id_of(caller, args.domain_id, args.domain)
    if action == "attach":
        report = lifecycle.attach(caller, target, domain_id, args.user_profile, make_default=not args.no_default)
    else:
        report = lifecycle.detach(caller, target, domain_id, args.user_profile)
    return _with_plan(report, caller)


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BadRequest(f"Invalid --tag {text!r}: use KEY=VALUE, e.g. --tag team=payments.")
    return key, value


def _with_plan(report, caller):
    if caller.dry_run:
        report.dry_run = True
        report.plan = list(caller.lines)
    return report


# -- admin -----------------------------------------------------------------------------------
def _spec(args, users: list):
    from .core.admin.bootstrap import Spec, parse_user

    return Spec(domain=args.domain, users=tuple(parse_user(u) for u in users), region=_region(args),
                role_name=args.role_name, policy_name=args.policy_name, bucket=args.bucket, prefix=args.prefix,
                vpc_id=getattr(args, "vpc_id", None), subnet_ids=tuple(getattr(args, "subnet_ids", None) or ()),
                vpc_only=getattr(args, "vpc_only", False), tag_key=args.tag_key,
                security_group_ids=tuple(getattr(args, "security_group_ids", None) or ()))


def _admin(args) -> Any:
    from .core.admin import bootstrap, policies, studio, teardown

    action = args.admin_action
    if action == "policy":
        if args.document == "trust":
            return Document(policies.trust_policy())
        options = dict(account=args.account or "*", bucket=args.bucket, prefix=args.prefix, role_arn=args.role_arn,
                       tag_key=args.tag_key)
        if args.whole:
            return Document(policies.abac_policy(**options))
        parts = policies.abac_policies(args.policy_name, **options)
        if args.part:
            return Document(parts[f"{args.policy_name}-{args.part}"])
        return Document(parts)
    if action == "migrate-registry":
        return _migrate_registry(args)
    if action == "teardown" and not args.dry_run and not args.yes:
        _confirm_teardown(args)
    caller = make_caller(args)
    if action == "bootstrap":
        return bootstrap.bootstrap(caller, _spec(args, args.user))
    if action == "status":
        if not args.domain:
            raise BadRequest("Say which domain: --domain NAME.")
        return bootstrap.status(caller, _spec(args, args.user or []))
    if action == "presigned-url":
        domain_id = studio.domain_id_of(caller, args.domain_id, args.domain)
        return studio.presigned_url(caller, domain_id, args.user, session_seconds=args.session,
                                    expires_in=args.expires_in)
    return teardown.teardown(caller, domain_id=args.domain_id, domain_name=args.domain, delete_home=args.delete_home,
                             everything=args.all, policy_name=args.policy_name, bucket=args.bucket,
                             region=_region(args), include_user_resources=args.include_user_resources,
                             prefix=args.prefix, tag_key=args.tag_key)


def _migrate_registry(args) -> Any:
    """Move versions pushed before owners had folders into them (core/registry/s3_migrate.py)."""
    from .core.config import SmopsConfig
    from .core.registry.s3 import S3Registry
    from .core.registry.s3_migrate import migrate

    settings = {k: v for k, v in (("bucket", args.bucket), ("prefix", args.prefix), ("region", args.region)) if v}
    return migrate(S3Registry(SmopsConfig(backend="aws", **settings)), dry_run=args.dry_run)


def _confirm_teardown(args) -> None:
    what = args.domain_id or args.domain
    if not sys.stdin.isatty():
        raise BadRequest(f"Teardown deletes domain {what} with its apps, spaces and user profiles: add --yes to "
                         f"confirm, or --dry-run to see what it would do.")
    answer = input(f"Delete domain {what} with all its apps, spaces and user profiles? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise BadRequest("Teardown cancelled: nothing was deleted.")


# -- grammar ---------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, dry_run: bool = True) -> None:
    p.add_argument("--region", help="AWS region (default: SMOPS_REGION, AWS_REGION, else us-east-1)")
    if dry_run:
        p.add_argument("--dry-run", action="store_true", help="make no AWS call; print every call it would make")


def _script_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", help="jupyter_smops version to pin (default: this one)")
    p.add_argument("--wheel", metavar="S3_URL", help="install this wheel from S3 instead of PyPI")
    p.add_argument("--append", metavar="FILE", help="your own shell commands, run after ours")


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="lifecycle config name (default jupyter-smops-<version>)")
    p.add_argument("--arn", help="lifecycle config ARN instead of --name")
    p.add_argument("--version", help="version whose default name to use")
    p.add_argument("--wheel", help=argparse.SUPPRESS)
    p.add_argument("--domain", help="domain name (or --domain-id; default: the only domain)")
    p.add_argument("--domain-id")
    p.add_argument("--user-profile", help="attach to this user profile only (default: the whole domain)")


def _register_lcc(subparsers) -> None:
    lcc = subparsers.add_parser("lifecycle-config", help="the Studio lifecycle configuration that installs jupyter_smops",
                                description="Print, create, attach, detach or delete the JupyterLab on-start script.")
    sub = lcc.add_subparsers(dest="lcc_action", metavar="ACTION", required=True)
    p = sub.add_parser("print", help="print the on-start script (checks the 16,384-character limit)")
    _script_options(p)
    p.add_argument("--base64", action="store_true", help="print the base64 content instead")
    p = sub.add_parser("create", help="CreateStudioLifecycleConfig (app type JupyterLab)")
    _script_options(p)
    p.add_argument("--name", help="default jupyter-smops-<version>")
    p.add_argument("--arn", help=argparse.SUPPRESS)
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="extra tag (repeatable)")
    _common(p)
    for action, text in (("attach", "attach to a domain or user profile, keeping LCCs already attached"),
                         ("detach", "detach from a domain or user profile")):
        p = sub.add_parser(action, help=text)
        _target_options(p)
        if action == "attach":
            p.add_argument("--no-default", action="store_true", help="attach without making it the default LCC")
        _common(p)
    p = sub.add_parser("delete", help="DeleteStudioLifecycleConfig")
    p.add_argument("--name")
    p.add_argument("--arn", help=argparse.SUPPRESS)
    p.add_argument("--version")
    p.add_argument("--wheel", help=argparse.SUPPRESS)
    _common(p)
    lcc.set_defaults(func=_lcc)


def _setup_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--role-name", default="SageMakerDomainExecutionRole", help="execution role (seed's name)")
    p.add_argument("--policy-name", default="SageMaker-Studio-ABAC", help="ABAC policy name (seed's name)")
    p.add_argument("--bucket", help="registry bucket (default sagemaker-<region>-<account>)")
    p.add_argument("--prefix", default="model-artifacts", help="registry key prefix")
    p.add_argument("--tag-key", default="studiouserid", help="owner tag key")


def _policy_parts() -> list:
    from .core.admin.policies import part_names

    return part_names()


def _register_admin(subparsers) -> None:
    admin = subparsers.add_parser("admin", help="Studio domain, execution role, users and ABAC: set up and tear down",
                                  description="Set up a Studio domain for jupyter_smops users, and tear it down.")
    sub = admin.add_subparsers(dest="admin_action", metavar="ACTION", required=True)
    p = sub.add_parser("bootstrap", help="role, bucket, domain, user profiles, IAM users, ABAC policy")
    p.add_argument("--domain", required=True, help="domain name")
    p.add_argument("--user", action="append", required=True, metavar="NAME:TAG",
                   help="user profile and IAM user NAME tagged studiouserid=TAG (repeatable)")
    p.add_argument("--vpc-id", help="default: the default VPC")
    p.add_argument("--subnet-ids", nargs="+", help="default: the VPC's subnets")
    p.add_argument("--vpc-only", action="store_true", help="VpcOnly network access (then use --wheel for the LCC)")
    p.add_argument("--security-group-ids", nargs="+", metavar="SG", help="the apps' security groups (required with --vpc-only)")
    _setup_options(p)
    _common(p)
    p = sub.add_parser("status", help="what exists and what is missing, and the users' billed resources")
    p.add_argument("--domain", help="domain name")
    p.add_argument("--user", action="append", metavar="NAME:TAG", help="users to check (default: the domain's)")
    _setup_options(p)
    _common(p)
    p = sub.add_parser("presigned-url", help="a Studio sign-in URL for a user profile")
    p.add_argument("--user", required=True, help="user profile name")
    p.add_argument("--domain", help="domain name (default: the only domain)")
    p.add_argument("--domain-id")
    p.add_argument("--session", type=int, default=3600, help="session length in seconds (1800-43200)")
    p.add_argument("--expires-in", type=int, default=300, help="seconds the URL stays usable (5-300)")
    _common(p)
    p = sub.add_parser("teardown", help="apps, spaces, user profiles, then the domain (waits at each step)")
    p.add_argument("--domain-id")
    p.add_argument("--domain", help="domain name instead of --domain-id")
    p.add_argument("--delete-home", action="store_true", help="also delete the domain's home EFS volume")
    p.add_argument("--all", action="store_true", help="also delete what bootstrap and lifecycle-config create made")
    p.add_argument("--include-user-resources", action="store_true",
                   help="first delete the users' endpoints, configs, models, model packages and registry objects "
                        "(teardown refuses while they remain)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _setup_options(p)
    _common(p)
    p = sub.add_parser("migrate-registry", help="move registry versions pushed before owner folders into them (once, "
                                                "after upgrading)")
    p.add_argument("--bucket", help="registry bucket (default: SMOPS_BUCKET, else SageMaker's default)")
    p.add_argument("--prefix", help="registry prefix (default: SMOPS_PREFIX, else model-artifacts)")
    p.add_argument("--region", help="AWS region (default: SMOPS_REGION, AWS_REGION, else us-east-1)")
    p.add_argument("--dry-run", action="store_true", help="list what would move (reads S3, changes nothing)")
    p = sub.add_parser("policy", help="print the ABAC or the trust policy document")
    p.add_argument("document", choices=("abac", "trust"))
    p.add_argument("--account", help="account id in ARNs (default *)")
    p.add_argument("--role-arn", help="the execution role users may pass (default any role in the account)")
    p.add_argument("--bucket", help="registry bucket (default any sagemaker-* bucket)")
    p.add_argument("--prefix", default="model-artifacts")
    p.add_argument("--tag-key", default="studiouserid")
    p.add_argument("--policy-name", default="SageMaker-Studio-ABAC",
                   help="prefix of the managed policies' names, as bootstrap's --policy-name")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--part", choices=_policy_parts(),
                       help="print only this managed policy's document (ready for aws iam create-policy)")
    which.add_argument("--whole", action="store_true",
                       help="print the union as one document (to read or evaluate: over IAM's size limit)")
    admin.set_defaults(func=_admin)


def register(subparsers) -> None:
    """Add ``lifecycle-config`` and ``admin`` to the CLI's subparsers."""
    _register_lcc(subparsers)
    _register_admin(subparsers)


def main(argv: Optional[list] = None) -> int:
    """Run one admin command alone (the full CLI is ``jupyter smops``); returns the exit code."""
    parser = argparse.ArgumentParser(prog="jupyter smops")
    register(parser.add_subparsers(dest="verb", metavar="VERB", required=True))
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    if as_json:
        argv.remove("--json")
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except SmopsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2 if exc.status == 400 else 1
    if as_json:
        import json

        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
