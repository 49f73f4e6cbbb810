"""The public API is what ``__all__`` says; changing it is a deliberate act."""

import lambdamaker


def test_public_api_is_pinned() -> None:
    assert lambdamaker.__all__ == [
        "LambdamakerError",
        "Platform",
        "PlatformConfig",
        "ServiceError",
        "__version__",
    ]
    for name in lambdamaker.__all__:
        assert hasattr(lambdamaker, name)
