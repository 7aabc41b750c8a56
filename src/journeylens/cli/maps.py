"""``journeylens`` commands of the maps area: templates, new, validate, lint, diff, export,
import, show, schema and ``persona new``.

Commands only parse arguments, call the library (:mod:`journeylens.formats`,
:mod:`journeylens.templates`, :mod:`journeylens.model.lint`) and print; the library
functions are what a notebook user calls too. Library modules are imported inside the
commands so ``journeylens --help`` stays fast and each command loads only what it needs.
Output conventions (stdout / stderr, exit codes) are in :mod:`journeylens.cli._output`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from journeylens.cli._output import (
    EXIT_INVALID,
    FORMAT_OPTION_HELP,
    OutputFormat,
    console,
    echo_json,
    echo_lines,
    fail,
    refuse_overwrite,
    write_or_echo,
)

if TYPE_CHECKING:
    from journeylens.formats.io import Issue
    from journeylens.model import JourneyMap, Persona

FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help=FORMAT_OPTION_HELP, case_sensitive=False)
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")]
T = TypeVar("T")


class ExportFormat(StrEnum):
    """Formats a map can be exported to."""

    MERMAID = "mermaid"
    CSV = "csv"
    JSON = "json"
    YAML = "yaml"


class ImportFormat(StrEnum):
    """Formats a map can be imported from."""

    MERMAID = "mermaid"
    CSV = "csv"


class DiffFormat(StrEnum):
    """How ``journeylens diff`` prints the differences."""

    TEXT = "text"
    JSON = "json"


class GenerationChoice(StrEnum):
    """Generational cohorts accepted by ``persona new`` (see ``journeylens.model.Generation``)."""

    SILENT = "silent"
    BABY_BOOMER = "baby_boomer"
    GEN_X = "gen_x"
    MILLENNIAL = "millennial"
    GEN_Z = "gen_z"
    GEN_ALPHA = "gen_alpha"


# -- helpers: loading with located errors ------------------------------------------------


def _report_issues(issues: list[Issue]) -> None:
    """Print every located issue on stderr, one per line."""
    echo_lines(issues, err=True)
    count = len(issues)
    typer.echo(f"{count} error{'s' if count != 1 else ''}", err=True)


def _load_map_or_exit(path: Path) -> JourneyMap:
    """Load a map; on failure list every issue on stderr and exit 1."""
    from journeylens.formats.io import load_map

    return _or_exit(load_map, path)


def _or_exit(load: Callable[[Path], T], path: Path) -> T:
    """``load(path)``; on a :class:`DocumentError` list every issue on stderr and exit 1."""
    from journeylens.formats.io import DocumentError

    try:
        return load(path)
    except DocumentError as exc:
        _report_issues(exc.issues)
        raise typer.Exit(EXIT_INVALID) from None


def _personas_beside(path: Path) -> tuple[dict[str, Persona], list[Issue]]:
    """Persona files in the map's folder, by id, and the issues of those that do not load.

    Each persona file is loaded on its own so one broken file does not hide the others.
    """
    from journeylens.formats.io import PERSONA_SUFFIXES, DocumentError, load_persona

    found: dict[str, Persona] = {}
    issues: list[Issue] = []
    folder = path.parent
    for suffix in PERSONA_SUFFIXES:
        for candidate in sorted(folder.glob(f"*{suffix}")):
            try:
                persona = load_persona(candidate)
            except DocumentError as exc:
                issues.extend(exc.issues)
            else:
                found[persona.id] = persona
    return found, issues


# -- templates, new ---------------------------------------------------------------------


def templates(fmt: FormatOpt = OutputFormat.TEXT) -> None:
    """List the built-in map templates with a one-line description each.

    Example:

        journeylens templates

        journeylens templates --format json
    """
    from rich.table import Table

    from journeylens.templates import list_templates

    infos = list_templates()
    if fmt is OutputFormat.JSON:
        echo_json(
            [
                {
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "stages": list(t.stage_names),
                    "personas": list(t.persona_ids),
                }
                for t in infos
            ]
        )
        return
    table = Table(title="journeylens templates", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("stages", justify="right")
    table.add_column("personas", justify="right")
    table.add_column("description")
    for t in infos:
        table.add_row(t.name, str(len(t.stage_names)), str(len(t.persona_ids)), t.description)
    console().print(table)
    typer.echo("Create a map from one: journeylens new my.journey.yaml --template NAME")


def new(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The map file to create, e.g. shop.journey.yaml.")
    ],
    template: Annotated[
        str, typer.Option("--template", "-t", help="Template name (see: journeylens templates).")
    ],
    title: Annotated[str | None, typer.Option("--title", help="Title of the new map.")] = None,
    map_id: Annotated[
        str | None, typer.Option("--id", help="Id of the new map (default: the template's).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Create a journey map from a template, plus the template's persona files beside it.

    Example:

        journeylens new course.journey.yaml --template online-course --title "Course signup"
    """
    from pydantic import ValidationError

    from journeylens.templates import (
        TemplateTargetExistsError,
        UnknownTemplateError,
        create_from_template,
        get_template_personas,
    )

    try:
        personas = get_template_personas(template)
    except UnknownTemplateError as exc:
        fail(str(exc))
    if force:
        # The library never overwrites; --force removes the map and persona files it would write.
        folder = file if file.is_dir() else file.parent
        targets = [] if file.is_dir() else [file]
        targets += [folder / f"{p.id}.persona.yaml" for p in personas]
        for target in targets:
            target.unlink(missing_ok=True)
    try:
        written = create_from_template(template, file, title=title, map_id=map_id)
    except TemplateTargetExistsError as exc:
        fail(f"{exc} (use --force to overwrite)")
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'id' if err['loc'][:1] == ('id',) else 'title'}: {err['msg']}"
            for err in exc.errors()
        )
        fail(f"invalid option value ({problems})")
    for path in written:
        typer.echo(f"created {path}")
    typer.echo(f"Next: journeylens show {file}")


# -- validate, lint ---------------------------------------------------------------------


def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Map and persona files (*.journey.yaml, *.persona.yaml), or folders of them.",
        ),
    ],
    fmt: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Check map and persona files against the schema and the model's invariants.

    Every problem in every file is listed as file:line:col: path: message. A map's persona
    ids must resolve to persona files in the same folder. Exit 0 when all files are
    valid, 1 otherwise. Whether a file is a map or a persona is read from its `schema:`
    key, else from its suffix. A folder stands for the map and persona files in it.

    Example:

        journeylens validate maps/
    """
    from journeylens.formats.io import (
        MAP_SUFFIXES,
        PERSONA_SUFFIXES,
        DocumentError,
        check_persona_refs,
        load_any,
    )
    from journeylens.model import JourneyMap

    expanded: list[Path] = []
    for given in files:
        if not given.is_dir():
            expanded.append(given)
            continue
        found = sorted(
            p for p in given.iterdir() if p.name.lower().endswith(MAP_SUFFIXES + PERSONA_SUFFIXES)
        )
        if not found:
            fail(f"{given}: no *.journey.yaml or *.persona.yaml files in this folder")
        expanded.extend(found)
    files = expanded
    reports: list[dict[str, object]] = []
    all_issues: list[Issue] = []
    seen: set[Issue] = set()
    for path in files:
        kind = "persona" if path.name.lower().endswith(PERSONA_SUFFIXES) else "map"
        issues: list[Issue] = []
        summary = ""
        try:
            obj = load_any(path)
        except DocumentError as exc:
            issues = list(exc.issues)
        else:
            if isinstance(obj, JourneyMap):
                kind = "map"
                personas, persona_issues = _personas_beside(path)
                issues = persona_issues + check_persona_refs(obj, path, personas)
                steps = sum(len(s.steps) for s in obj.stages)
                summary = f"map '{obj.id}': {len(obj.stages)} stages, {steps} steps"
            else:
                kind = "persona"
                summary = f"persona '{obj.id}'"
        # A broken persona file is reported once even when several maps sit beside it.
        fresh = [issue for issue in issues if issue not in seen]
        seen.update(fresh)
        all_issues.extend(fresh)
        reports.append(
            {
                "file": str(path),
                "kind": kind,
                "valid": not issues,
                "issues": [issue.to_dict() for issue in fresh],
            }
        )
        if fmt is OutputFormat.TEXT:
            if issues:
                echo_lines(fresh, err=True)
            else:
                typer.echo(f"ok {path} ({summary})")
    invalid = sum(1 for r in reports if not r["valid"])
    if fmt is OutputFormat.JSON:
        echo_json({"valid": invalid == 0, "files": reports})
    elif invalid:
        n = len(all_issues)
        typer.echo(
            f"{invalid} of {len(files)} file{'s' if len(files) != 1 else ''} invalid, "
            f"{n} error{'s' if n != 1 else ''}",
            err=True,
        )
    else:
        typer.echo(f"all {len(files)} file{'s' if len(files) != 1 else ''} valid")
    if invalid:
        raise typer.Exit(EXIT_INVALID)


def lint(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The map to check, e.g. shop.journey.yaml.")
    ],
    fmt: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Check a valid map against the journey-mapping checklist of the seed articles.

    Each finding is printed as file:line:col: path: severity [rule] message (like
    validate's errors, so editors jump to the place):
    a persona is set, the journey has a beginning, middle and end, each stage has
    touchpoints, every step has an emotion, 4–12 steps per stage, pain points carry
    evidence, … Personas are read from persona files beside the map. Exit 1 when any
    finding is an error; warnings alone exit 0.

    Example:

        journeylens lint course.journey.yaml --format json
    """
    from journeylens.formats.io import load_map_located
    from journeylens.model.lint import Severity, has_errors, lint_map

    journey, where = _or_exit(load_map_located, file)  # one parse: the map and its lines
    personas, persona_issues = _personas_beside(file)
    if persona_issues:
        _report_issues(persona_issues)
        raise typer.Exit(EXIT_INVALID)
    findings = lint_map(journey, personas)
    places = [where(f.loc) for f in findings]
    counts = {level: sum(1 for f in findings if f.severity is level) for level in Severity}
    if fmt is OutputFormat.JSON:
        echo_json(
            {
                "file": str(file),
                "errors": counts[Severity.ERROR],
                "warnings": counts[Severity.WARNING],
                "infos": counts[Severity.INFO],
                "findings": [
                    {**f.to_dict(), "line": line, "column": column}
                    for f, (line, column) in zip(findings, places, strict=True)
                ],
            }
        )
    else:
        for f, (line, column) in zip(findings, places, strict=True):
            at = f"{file}:{line}:{column}" if line is not None else str(file)
            path = f" {f.path}:" if f.path else ""
            typer.echo(f"{at}:{path} {f.severity.value} [{f.rule}] {f.message}")
        typer.echo(
            ", ".join(
                f"{counts[level]} {level.value}{'s' if counts[level] != 1 else ''}"
                for level in Severity
            )
        )
    if has_errors(findings):
        raise typer.Exit(EXIT_INVALID)


# -- diff, export, import ---------------------------------------------------------------


def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier version of the map.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later version of the map.")],
    fmt: Annotated[
        DiffFormat, typer.Option("--format", "-f", help=FORMAT_OPTION_HELP, case_sensitive=False)
    ] = DiffFormat.TEXT,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when the maps differ (like git diff).")
    ] = False,
) -> None:
    """Show what changed between two versions of a map, by meaning rather than by line.

    Stages, steps, touchpoints, pain points and opportunities added, removed, renamed or
    moved; emotion changes; match rule changes.

    Example:

        journeylens diff v1.journey.yaml v2.journey.yaml --format json
    """
    from journeylens.formats.diff import diff_maps

    old_map = _load_map_or_exit(old)
    new_map = _load_map_or_exit(new)
    result = diff_maps(old_map, new_map)
    if fmt is DiffFormat.JSON:
        echo_json(result.to_dict())
    elif result.is_empty:
        typer.echo("no differences")
    else:
        text = result.to_text()
        typer.echo(text, nl=not text.endswith("\n"))
    if exit_code and not result.is_empty:
        raise typer.Exit(EXIT_INVALID)


def export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The map to export.")],
    to: Annotated[ExportFormat, typer.Option("--to", help="Target format.", case_sensitive=False)],
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export a map as a Mermaid `journey` diagram, a CSV grid (stages × lanes), JSON or YAML.

    Mermaid keeps what Mermaid can draw (sections, tasks, a 1–5 score, actors); the CSV
    grid and JSON keep everything.

    Example:

        journeylens export course.journey.yaml --to mermaid -o course.mmd
    """
    journey = _load_map_or_exit(file)
    if to is ExportFormat.MERMAID:
        from journeylens.formats.mermaid import to_mermaid

        text = to_mermaid(journey)
    elif to is ExportFormat.CSV:
        from journeylens.formats.csvgrid import to_csv

        text = to_csv(journey)
    else:
        from journeylens.formats.io import dumps_json, dumps_yaml

        text = dumps_json(journey) if to is ExportFormat.JSON else dumps_yaml(journey)
    write_or_echo(text, out)


def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The Mermaid or CSV file to read.")],
    from_: Annotated[
        ImportFormat, typer.Option("--from", help="Source format.", case_sensitive=False)
    ],
    out: Annotated[
        Path,
        typer.Option("--output", "-o", help="The map file to write (.journey.yaml or .json)."),
    ],
    force: ForceOpt = False,
) -> None:
    """Turn a Mermaid `journey` diagram or a CSV grid into a journeylens map file.

    Example:

        journeylens import board.csv --from csv -o board.journey.yaml
    """
    from journeylens.formats.io import DocumentError, save

    refuse_overwrite([out], force)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: cannot read ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    try:
        if from_ is ImportFormat.MERMAID:
            from journeylens.formats.mermaid import from_mermaid

            journey = from_mermaid(text, str(file))
        else:
            from journeylens.formats.csvgrid import from_csv

            journey = from_csv(text, str(file))
    except DocumentError as exc:
        _report_issues(exc.issues)
        raise typer.Exit(EXIT_INVALID) from None
    save(journey, out)
    typer.echo(f"wrote {out} (map '{journey.id}', {len(journey.stages)} stages)")


# -- show, schema, persona new ----------------------------------------------------------


def show(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A map or persona file.")],
) -> None:
    """Print a readable outline of a map (or a persona card) in the terminal.

    For a map: title, persona, stages → steps with an emotion bar (−2 … +2 around a
    neutral line), touchpoints with their channels, pain points, opportunities, moments of
    truth, KPIs and outcomes.

    Example:

        journeylens show course.journey.yaml
    """
    from journeylens.cli._show import map_outline, persona_card
    from journeylens.formats.io import DocumentError, load_any
    from journeylens.model import JourneyMap

    try:
        obj = load_any(file)
    except DocumentError as exc:
        _report_issues(exc.issues)
        raise typer.Exit(EXIT_INVALID) from None
    out = console()
    if isinstance(obj, JourneyMap):
        personas, _ = _personas_beside(file)
        out.print(map_outline(obj, personas))
    else:
        out.print(persona_card(obj))


def schema(
    out_dir: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the schema files into.")
    ] = Path("schema"),
) -> None:
    """Write the JSON Schemas of the map and persona files (for editors and other tools).

    Example:

        journeylens schema -o schema/
    """
    from journeylens.formats.schema import write_schemas

    for path in write_schemas(out_dir):
        typer.echo(f"wrote {path}")


persona_app = typer.Typer(
    name="persona",
    help="Work with persona files (*.persona.yaml).\n\nExample: journeylens persona new ana.persona.yaml",
    no_args_is_help=True,
)

_PERSONA_SUFFIXES = (".persona.yaml", ".persona.yml", ".persona.json", ".yaml", ".yml", ".json")


@persona_app.command("new")
def persona_new(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The persona file to create, e.g. ana.persona.yaml."),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: from the file name).")
    ] = None,
    generation: Annotated[
        GenerationChoice | None,
        typer.Option("--generation", help="Generational cohort.", case_sensitive=False),
    ] = None,
    persona_id: Annotated[
        str | None, typer.Option("--id", help="Persona id (default: the file name's stem).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Create a persona file to fill in, referenced from maps by its id.

    The id defaults to the file name without its suffix (ana.persona.yaml → ana).

    Example:

        journeylens persona new ana.persona.yaml --name "Ana, the career changer" --generation millennial
    """
    from pydantic import ValidationError

    from journeylens.formats.io import save
    from journeylens.model import Demographics, Generation, Persona

    refuse_overwrite([file], force)
    stem = file.name
    for suffix in _PERSONA_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    pid = persona_id or stem
    try:
        persona = Persona(
            id=pid,
            name=name or stem.replace("-", " ").replace("_", " ").title(),
            demographics=Demographics(
                generation=Generation(generation.value) if generation else None
            ),
        )
    except ValidationError:
        fail(
            f"'{pid}' is not a valid persona id (lower-case letters, digits, '-' and '_'); "
            "pass one with --id"
        )
    save(persona, file)
    typer.echo(f"created {file} (persona '{pid}')")
    typer.echo("Next: fill in goals, needs, frustrations, preferred_channels and segment.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("templates")(templates)
    app.command("new")(new)
    app.command("validate")(validate)
    app.command("lint")(lint)
    app.command("diff")(diff)
    app.command("export")(export)
    app.command("import")(import_)
    app.command("show")(show)
    app.command("schema")(schema)
    app.add_typer(persona_app, name="persona")
