"""Which fields each state type accepts, per query language (the ASL specification's tables).

A field outside a state's set is reported as ``Field 'X' is not supported``, unless it belongs
to the other query language, which gets AWS's QueryLanguage message instead.
"""

from __future__ import annotations

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_JSONPATH_IO = frozenset({"InputPath", "OutputPath"})
_ERRORS = frozenset({"Retry", "Catch"})

_MAP_COMMON = frozenset(
    {
        "ItemProcessor",
        "Iterator",
        "ItemSelector",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "ToleratedFailureCount",
        "ToleratedFailurePercentage",
        "Label",
        "Assign",
    }
)

_JSONPATH: dict[str, frozenset[str]] = {
    "Pass": _COMMON | _FLOW | _JSONPATH_IO | {"ResultPath", "Parameters", "Result", "Assign"},
    "Task": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | _ERRORS
    | {
        "Resource",
        "ResultPath",
        "Parameters",
        "ResultSelector",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
        "Assign",
    },
    "Choice": _COMMON | _JSONPATH_IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _JSONPATH_IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | _ERRORS
    | {"Branches", "ResultPath", "Parameters", "ResultSelector", "Assign"},
    "Map": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | _ERRORS
    | _MAP_COMMON
    | {
        "ItemsPath",
        "Parameters",
        "ResultPath",
        "ResultSelector",
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
    },
}

_JSONATA: dict[str, frozenset[str]] = {
    "Pass": _COMMON | _FLOW | {"Output", "Assign"},
    "Task": _COMMON
    | _FLOW
    | _ERRORS
    | {
        "Resource",
        "Arguments",
        "Output",
        "TimeoutSeconds",
        "HeartbeatSeconds",
        "Credentials",
        "Assign",
    },
    "Choice": _COMMON | {"Choices", "Default", "Output", "Assign"},
    "Wait": _COMMON | _FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    "Succeed": _COMMON | {"Output"},
    "Fail": _COMMON | {"Error", "Cause"},
    "Parallel": _COMMON | _FLOW | _ERRORS | {"Branches", "Arguments", "Output", "Assign"},
    "Map": _COMMON | _FLOW | _ERRORS | _MAP_COMMON | {"Items", "Output"},
}


def allowed(state_type: str, language: str) -> frozenset[str]:
    table = _JSONATA if language == "JSONata" else _JSONPATH
    return table[state_type]


# The members of a (sub-)state machine.
MACHINE = frozenset({"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"})
BRANCH = frozenset({"StartAt", "States", "Comment"})
PROCESSOR = BRANCH | {"ProcessorConfig"}
PROCESSOR_CONFIG = frozenset({"Mode", "ExecutionType"})
ITEM_READER = frozenset({"Resource", "ReaderConfig", "Parameters", "Arguments"})
READER_CONFIG = frozenset(
    {
        "InputType",
        "CSVHeaderLocation",
        "CSVHeaders",
        "CSVDelimiter",
        "MaxItems",
        "MaxItemsPath",
        "ManifestType",
    }
)
ITEM_BATCHER = frozenset(
    {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
)
RESULT_WRITER = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
