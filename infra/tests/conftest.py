"""What the infra tests read: the plans, the applied state and the listener
rules that scripts/test-infra leaves in $WB_INFRA_OUT.

    $WB_INFRA_OUT/plans/NAME.json         terraform show -json of a plan
    $WB_INFRA_OUT/plans/NAME.tfvars.json  the variables of that plan
    $WB_INFRA_OUT/state/default.json      terraform show -json after apply
    $WB_INFRA_OUT/rules/POLICY.json       weighbridge_policy::alb's rules

Without them (no Terraform, or pytest run on its own) the tests that need
them are skipped, with the reason; run scripts/test-infra.
"""

import json
import os
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parent.parent
ROOT = INFRA.parent
OUT = Path(os.environ["WB_INFRA_OUT"]) if os.environ.get("WB_INFRA_OUT") else None

# The variants scripts/test-infra plans (keep in step with its list).
VARIANTS = ["default", "scaling-none", "scaling-alb", "blue-green", "public-alb", "lambda-in-vpc"]


def _load(relative, what):
    if OUT is None:
        pytest.skip(f"no {what}: WB_INFRA_OUT is not set (run scripts/test-infra)")
    path = OUT / relative
    if not path.is_file():
        pytest.skip(f"no {what} at {path} (Terraform or cargo was skipped: see scripts/test-infra's summary)")
    return json.loads(path.read_text())


class Plan:
    """One `terraform show -json` plan, and the variables it was made with."""

    def __init__(self, name):
        self.name = name
        self.json = _load(f"plans/{name}.json", f"plan of variant {name}")
        self.vars = _load(f"plans/{name}.tfvars.json", f"variables of variant {name}")

    @property
    def policy_file(self):
        """The policy file of this plan, relative to the repository."""
        path = self.vars.get("policy_file")
        return Path(path).name if path else "policy.json"

    def created(self, type_=None, module=None):
        """The resources the plan creates: {address, type, module, name, index, values, unknown}."""
        out = []
        for change in self.json["resource_changes"]:
            if change["mode"] != "managed" or "create" not in change["change"]["actions"]:
                continue
            if type_ and change["type"] != type_:
                continue
            mod = change.get("module_address", "")
            if module and mod != f"module.{module}":
                continue
            out.append(
                {
                    "address": change["address"],
                    "type": change["type"],
                    "module": mod,
                    "name": change["name"],
                    "index": change.get("index"),
                    "values": change["change"]["after"],
                    "unknown": change["change"]["after_unknown"],
                }
            )
        return out

    def one(self, type_, module, name):
        found = [r for r in self.created(type_, module) if r["name"] == name]
        assert len(found) == 1, f"{self.name}: expected one {module}.{type_}.{name}, found {[r['address'] for r in found]}"
        return found[0]

    def module_config(self, module):
        return self.json["configuration"]["root_module"]["module_calls"][module]["module"]


class State:
    """`terraform show -json` of the applied default variant."""

    def __init__(self):
        self.json = _load("state/default.json", "applied state")

    def resources(self, type_=None):
        def walk(module):
            yield from module.get("resources", [])
            for child in module.get("child_modules", []):
                yield from walk(child)

        return [r for r in walk(self.json["values"]["root_module"]) if r["mode"] == "managed" and (type_ is None or r["type"] == type_)]


def alb_rules(policy_file):
    """What weighbridge_policy::alb computes for a policy file (by its name)."""
    return _load(f"rules/{policy_file}", f"weighbridge_policy::alb rules of {policy_file}")


@pytest.fixture(params=VARIANTS)
def plan(request):
    return Plan(request.param)


@pytest.fixture
def default_plan():
    return Plan("default")


@pytest.fixture
def state():
    return State()
