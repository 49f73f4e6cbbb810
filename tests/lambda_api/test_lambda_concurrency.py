"""Reserved and provisioned concurrency and account settings, in-process (no engine needed)."""

from __future__ import annotations

import pytest
from lambda_support import Caller, aws_error


@pytest.fixture()
def fn(lam: Caller) -> str:
    lam.create("fn")
    lam.wait_active("fn")
    lam("PublishVersion", FunctionName="fn")
    lam("CreateAlias", FunctionName="fn", Name="live", FunctionVersion="1")
    return "fn"


def test_reserved_concurrency_round_trip(lam: Caller, fn: str) -> None:
    assert lam("GetFunctionConcurrency", FunctionName=fn) == {}
    assert lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=10) == {
        "ReservedConcurrentExecutions": 10
    }
    assert lam("GetFunctionConcurrency", FunctionName=fn) == {"ReservedConcurrentExecutions": 10}
    settings = lam("GetAccountSettings")
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    lam("DeleteFunctionConcurrency", FunctionName=fn)
    assert lam("GetFunctionConcurrency", FunctionName=fn) == {}


def test_reserving_below_the_unreserved_minimum_is_refused(lam: Caller, fn: str) -> None:
    lam.create("other")
    lam("PutFunctionConcurrency", FunctionName="other", ReservedConcurrentExecutions=850)
    with aws_error(
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    ):
        lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=51)
    lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=50)
    # Replacing one's own reservation does not count it twice.
    lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=50)


def test_reserved_concurrency_needs_an_unqualified_existing_function(lam: Caller, fn: str) -> None:
    with aws_error("InvalidParameterValueException", 400, "Aliases and versions do not support"):
        lam("PutFunctionConcurrency", FunctionName=f"{fn}:live", ReservedConcurrentExecutions=1)
    with aws_error("ResourceNotFoundException", 404):
        lam("PutFunctionConcurrency", FunctionName="nope", ReservedConcurrentExecutions=1)


def test_provisioned_concurrency_on_version_and_alias(lam: Caller, fn: str) -> None:
    out = lam(
        "PutProvisionedConcurrencyConfig",
        FunctionName=fn,
        Qualifier="live",
        ProvisionedConcurrentExecutions=2,
    )
    assert out["Status"] == "IN_PROGRESS"
    assert out["RequestedProvisionedConcurrentExecutions"] == 2
    got = lam("GetProvisionedConcurrencyConfig", FunctionName=fn, Qualifier="live")
    assert got["RequestedProvisionedConcurrentExecutions"] == 2
    assert got["Status"] in ("IN_PROGRESS", "READY")
    with aws_error(
        "ResourceConflictException", 409, "Version is pointed by a Provisioned Concurrency alias"
    ):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="1",
            ProvisionedConcurrentExecutions=1,
        )
    lam("DeleteProvisionedConcurrencyConfig", FunctionName=fn, Qualifier="live")
    with aws_error("ProvisionedConcurrencyConfigNotFoundException", 404):
        lam("GetProvisionedConcurrencyConfig", FunctionName=fn, Qualifier="live")
    lam("DeleteProvisionedConcurrencyConfig", FunctionName=fn, Qualifier="live")  # idempotent


def test_provisioned_concurrency_rules(lam: Caller, fn: str) -> None:
    with aws_error(
        "InvalidParameterValueException", 400, "cannot be applied to unpublished function versions"
    ):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="$LATEST",
            ProvisionedConcurrentExecutions=1,
        )
    with aws_error("ResourceNotFoundException", 404, "Function not found"):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="9",
            ProvisionedConcurrentExecutions=1,
        )
    with aws_error("ResourceNotFoundException", 404, "Cannot find alias arn"):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="nope",
            ProvisionedConcurrentExecutions=1,
        )
    lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=3)
    with aws_error(
        "InvalidParameterValueException",
        400,
        "should not be greater than the reservedConcurrentExecution",
    ):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="1",
            ProvisionedConcurrentExecutions=4,
        )
    lam(
        "PutProvisionedConcurrencyConfig",
        FunctionName=fn,
        Qualifier="1",
        ProvisionedConcurrentExecutions=3,
    )
    with aws_error(
        "InvalidParameterValueException",
        400,
        "should not be lower than function's total provisioned",
    ):
        lam("PutFunctionConcurrency", FunctionName=fn, ReservedConcurrentExecutions=2)
    with aws_error(
        "InvalidParameterValueException",
        400,
        "The function resource provided must be an alias or a published version.",
    ):
        lam("GetProvisionedConcurrencyConfig", FunctionName=fn, Qualifier="$LATEST")


@pytest.mark.parametrize("account_concurrency", [102])
def test_provisioned_concurrency_without_reservation_counts_against_the_account(
    lam: Caller, fn: str
) -> None:
    with aws_error("InvalidParameterValueException", 400, "below its minimum value of [100]"):
        lam(
            "PutProvisionedConcurrencyConfig",
            FunctionName=fn,
            Qualifier="1",
            ProvisionedConcurrentExecutions=3,
        )
    lam(
        "PutProvisionedConcurrencyConfig",
        FunctionName=fn,
        Qualifier="1",
        ProvisionedConcurrentExecutions=2,
    )
    assert lam("GetAccountSettings")["AccountLimit"]["UnreservedConcurrentExecutions"] == 100


def test_account_usage_counts_functions_and_code(lam: Caller, fn: str) -> None:
    usage = lam("GetAccountSettings")["AccountUsage"]
    size = lam("GetFunctionConfiguration", FunctionName=fn)["CodeSize"]
    assert usage == {"FunctionCount": 1, "TotalCodeSize": 2 * size}  # $LATEST and version 1
