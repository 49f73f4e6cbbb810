"""Workflows engine: the Amazon States Language (ASL) as a pure library (no HTTP, no botocore).

An execution is a coroutine that walks a validated definition, calling out only through two
interfaces the caller supplies: a ``Journal`` (where history events go; durable for Standard,
in memory for Express) and an ``IntegrationRegistry`` (what a Task's ``Resource`` does).

Modules (one concept each):

- ``errors``       ``StatesError(error, cause)`` and the ``States.*`` names.
- ``paths``        JSONPath reads (``$``, ``$$`` context, ``$var`` variables), ResultPath writes.
- ``templates``    payload templates: Parameters / ResultSelector / ItemSelector (``.$`` keys).
- ``variables``    ``Assign`` for JSONPath states; variable scopes (a ``ChainMap`` per branch).
- ``intrinsics/``  the 18 intrinsic functions (``States.Format(...)``): parser + functions.
- ``jsonata_eval`` JSONata: ``{% %}`` strings, ``$states``, Assign/Output (jsonata-python,
                   wrapped: null vs undefined, integral numbers, per-evaluation ``$now``);
                   ``jsonata_functions`` AWS's added functions; ``jsonata_check`` static checks.
- ``choice``       Choice rules (every comparator, And/Or/Not) for JSONPath states.
- ``waits``        Wait / timestamp arithmetic (Seconds, Timestamp, *Path).
- ``map_items``    Map's ItemReader formats (S3 JSON/JSONL/CSV/manifest/listing) and ItemBatcher;
                   ``map_runs`` Distributed Map runs (ARN, tolerance, the sink the service keeps);
                   ``map_results`` ResultWriter.
- ``inspection``   one state run alone, with the inspection data TestState returns.
- ``validation``   static checks with AWS's diagnostics (code, message, location).
- ``tasks``        the integration interface: ``TaskRequest`` -> result, ``IntegrationRegistry``.
- ``history``      ``HistoryEvent`` (GetExecutionHistory's shape) and the ``Journal`` protocol.
- ``interpreter``  the state machine walk: states, Retry/Catch, timeouts, Parallel, Map.

Values are plain JSON values (dict, list, str, int, float, bool, None), as ``json.loads`` makes
them. Numbers keep Python's int/float split so ``1`` stays ``1`` and ``1.5`` stays ``1.5``.

Invariants:
- a user's mistake in a definition is caught by ``validation`` before any execution starts; at
  run time a bad path, template, intrinsic or JSONata expression raises ``StatesError`` with the
  AWS error name (``States.Runtime``, ``States.ParameterPathFailure``,
  ``States.IntrinsicFailure``, ``States.QueryEvaluationError`` ...) and the cause AWS writes;
  nothing here raises anything else for a user's input;
- evaluation functions never mutate the values passed in (they copy what they change);
- an event is appended to the journal before the transition it records takes effect; with a
  durable journal an execution can be replayed from its events after a crash without any
  event being appended twice (``interpreter`` replays by step keys);
- the engine reads time only through the clock it is given, so tests use a fake clock.
"""
