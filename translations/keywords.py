"""The keywords ``pybabel extract`` needs besides Babel's own, for ``make messages`` and
the catalogue test (tests/web/test_translations.py).

Run from the repository's root: ``python -m translations.keywords`` prints them as
``-k`` options. It imports every module of the registry, so it is build tooling and
lives here, beside the catalogues it builds, rather than in the application.
"""

from __future__ import annotations

import importlib
import pkgutil

import registry
from registry.core import errors


def extract_keywords() -> dict[str, tuple[int, ...] | None]:
    """The calls whose argument is a message to translate, besides Babel's defaults:
    ``_l`` and every domain refusal (its message template is shown on pages in the
    request's language, see ``core.web.error_text``), ``field_error``'s and ``refusal``'s
    third argument (a field error's message), a ``Message``'s template, ``found``'s
    second and ``InvalidUSCC``'s third (a USCC's fault, translated the same way).
    ``make messages`` and the catalogue test use the same list, whatever was imported
    before: every module of the registry is imported to find every refusal class (some
    are loaded lazily by the app)."""
    for module in pkgutil.walk_packages(registry.__path__, "registry."):
        importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    keywords: dict[str, tuple[int, ...] | None] = {
        "_l": None,
        "field_error": (3,),
        "refusal": (3,),
        "Message": (1,),
        "found": (2,),
        "InvalidUSCC": (3,),
    }
    keywords.update({cls.__name__: None for cls in subclasses(errors.DomainError)})
    return keywords


def extract_keyword_flags() -> str:
    """``-k`` options for ``pybabel extract``."""
    return " ".join(
        f"-k {name}" if spec is None else f"-k {name}:{','.join(map(str, spec))}"
        for name, spec in extract_keywords().items()
    )


if __name__ == "__main__":
    print(extract_keyword_flags())
