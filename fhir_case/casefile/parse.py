"""Turn schema-checked case-file data into the typed case model, checking what a schema cannot:
real dates, codes in the register, references to facts that exist, quotes found in the source,
dates derived only from stated ones, and the coding rules of mCODE (ICD-O-3 behaviour by the
kind of cancer; a tumor's laterality the same as its condition's at the same site)."""

from __future__ import annotations

import datetime as dt
import re
from calendar import monthrange
from collections.abc import Callable
from typing import Any, TypeVar, cast

from fhir_case.casefile import model as m
from fhir_case.casefile.errors import Locator
from fhir_case.casefile.yamlpos import Path_
from fhir_case.terminology.register import CodeRegister
from fhir_case.validation.ucum import check_unit, suggest

SYSTEMS = {
    "SNOMED": "http://snomed.info/sct",
    "LOINC": "http://loinc.org",
    "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-O-3": "http://terminology.hl7.org/CodeSystem/icd-o-3",
    "UNII": "http://fdasis.nlm.nih.gov",
    "UCUM": "http://unitsofmeasure.org",
}

# Which sections a reference field may point into.
SECTIONS = (
    "organizations",
    "encounters",
    "conditions",
    "tumors",
    "procedures",
    "medications",
    "observations",
    "reports",
    "plans",
    "care_plans",
    "flags",
)
ICD_O_3 = SYSTEMS["ICD-O-3"]
# The ICD-O-3 behaviour digits mCODE allows for each kind of cancer
# (StructureDefinition mcode-histologic-behavior-and-type).
BEHAVIOURS = {"primary-cancer": frozenset("123"), "secondary-cancer": frozenset("6")}
# Where each section keeps its date(s), and the FHIRPath of that date in the resource.
DATE_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "encounters": {"start": ("start", "period.start"), "end": ("end", "period.end")},
    "conditions": {"date": ("onset", "onset")},
    "procedures": {"date": ("performed", "performed")},
    "observations": {"date": ("date", "effective")},
    "reports": {"date": ("date", "effective")},
    "medications": {
        "start": ("start", "dosageInstruction.timing.repeat.bounds.start"),
        "end": ("end", "dosageInstruction.timing.repeat.bounds.end"),
    },
    "care_plans": {"start": ("start", "period.start"), "end": ("end", "period.end")},
}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

T = TypeVar("T")


def normalise_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class CaseParser:
    """One parse of one case file: the data, where it came from, and the source text for quotes."""

    def __init__(
        self, data: dict[str, Any], locator: Locator, register: CodeRegister, source_text: str
    ) -> None:
        self.data = data
        self.locator = locator
        self.register = register
        self.source = normalise_whitespace(source_text)
        self.section_of: dict[str, str] = {}
        self.raw: dict[str, dict[str, Any]] = {}

    # -- entry point ---------------------------------------------------------------------------

    def parse(self) -> m.Case:
        self._index_ids()
        data = self.data
        case = m.Case(
            id=data["id"],
            title=data["title"],
            recorded=self._date(data["recorded"], ("recorded",)),
            identifier_system=data.get("identifier_system"),
            source=self._source(data["source"]),
            patient=self._patient(data["patient"]),
            organizations=self._each("organizations", self._organization),
            encounters=self._each("encounters", self._encounter),
            conditions=self._each("conditions", self._condition),
            tumors=self._each("tumors", self._tumor),
            procedures=self._each("procedures", self._procedure),
            medications=self._each("medications", self._medication),
            observations=self._each("observations", self._observation),
            reports=self._each("reports", self._report),
            plans=self._each("plans", self._plan),
            care_plans=self._each("care_plans", self._care_plan),
            flags=self._each("flags", self._flag),
        )
        self._refuse_cycles()
        return case

    # -- helpers -------------------------------------------------------------------------------

    def _index_ids(self) -> None:
        self.section_of[self.data["patient"]["id"]] = "patient"
        first_seen: dict[str, Path_] = {self.data["patient"]["id"]: ("patient", "id")}
        for section in SECTIONS:
            for index, item in enumerate(self.data.get(section, [])):
                path: Path_ = (section, index, "id")
                fact_id = item["id"]
                if fact_id in first_seen:
                    other = self.locator.positions.line_of(first_seen[fact_id])
                    raise self.locator.error(
                        path,
                        f"the id '{fact_id}' is already used (line {other})",
                        "give every fact its own id",
                    )
                first_seen[fact_id] = path
                self.section_of[fact_id] = section
                self.raw[fact_id] = item

    def _refuse_cycles(self) -> None:
        """A fact that follows, is part of, or is derived from itself, directly or round a
        circle, is an error: no record can say that."""
        for section, field, meaning in CHAINS:
            edges: dict[str, list[str]] = {}
            where: dict[str, Path_] = {}
            for index, item in enumerate(self.data.get(section, [])):
                targets = item.get(field)
                edges[item["id"]] = [targets] if isinstance(targets, str) else list(targets or [])
                where[item["id"]] = (section, index, field)
            circle = find_cycle(edges)
            if circle:
                shown = " → ".join(f"'{fact}'" for fact in circle)
                problem = (
                    f"'{circle[0]}' {meaning} itself"
                    if len(circle) == 2
                    else f"{shown}: the '{field}' chain comes back to where it started (circular)"
                )
                raise self.locator.error(
                    where[circle[0]], problem, f"correct '{field}' so that the chain ends"
                )

    def _each(self, section: str, parse: Callable[[dict[str, Any], Path_], T]) -> tuple[T, ...]:
        items = self.data.get(section, [])
        return tuple(parse(item, (section, index)) for index, item in enumerate(items))

    def _ref(self, value: str | None, path: Path_, *sections: str) -> str | None:
        if value is None:
            return None
        found = self.section_of.get(value)
        if found is None:
            raise self.locator.error(
                path,
                f"'{value}' refers to no fact in this case file",
                "use the id of a fact defined in the file, or define it",
            )
        if sections and found not in sections:
            raise self.locator.error(
                path,
                f"'{value}' is a fact in '{found}', "
                f"but this field refers to {' or '.join(sections)}",
                f"use the id of a fact in {' or '.join(sections)}",
            )
        return value

    def _refs(self, values: list[str] | None, path: Path_, *sections: str) -> tuple[str, ...]:
        return tuple(
            self._ref(value, (*path, index), *sections) or value
            for index, value in enumerate(values or [])
        )

    def _code(self, text: str, path: Path_) -> m.CodeRef:
        name, code = text.split(" ", 1)
        system = SYSTEMS[name]
        entry = self.register.get(system, code)
        if entry is None:
            raise self.locator.error(
                path,
                f"{name} code '{code}' is not in the code register",
                "use a verified code from fhir_case/terminology/codes.csv, or carry the concept "
                "as text only",
            )
        if entry.confidence == "unverified":
            raise self.locator.error(
                path,
                f"the register marks {name} code '{code}' ({entry.display}) as unverified",
                "carry the concept as text, or use a verified code for it",
            )
        return m.CodeRef(system, code, entry.display)

    def _codes(self, values: list[str] | None, path: Path_) -> tuple[m.CodeRef, ...]:
        return tuple(self._code(value, (*path, index)) for index, value in enumerate(values or []))

    def _date(self, value: str, path: Path_) -> str:
        parts = [int(part) for part in value.split("-")]
        try:
            dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError as error:
            raise self.locator.error(
                path, f"'{value}' is not a real date ({error})", "give a date that exists"
            ) from None
        return value

    def _quotes(self, value: str | list[str], path: Path_) -> tuple[str, ...]:
        quotes = (value,) if isinstance(value, str) else tuple(value)
        for index, quote in enumerate(quotes):
            if normalise_whitespace(quote) not in self.source:
                where = path if isinstance(value, str) else (*path, index)
                raise self.locator.error(
                    where,
                    f"the quote “{_shorten(quote)}” is not in the source text",
                    "copy the words verbatim from the source (only whitespace may differ)",
                )
        return quotes

    def _when(self, value: str | dict[str, Any], path: Path_) -> m.When:
        """A stated date, a date derived from another fact's stated date, or an absent one."""
        if isinstance(value, str):
            return m.When(self._date(value, path))
        if "text" in value:
            if "after" not in value:
                return m.When(None, how=value["text"])
            target = value["after"]
            target_path, base = self._anchor(target, value.get("anchor"), (*path, "after"))
            relationship = _relationship("after", target_path)
            relation = m.Relation(target, target_path, relationship, None)
            return m.When(None, how=value["text"], relation=relation)
        target = value["derived_from"]
        where = (*path, "derived_from")
        target_path, base = self._anchor(target, value.get("anchor"), where)
        if len(base) != 10:
            raise self.locator.error(
                where,
                f"the date of '{target}' ({base}) is not a full date",
                "derive dates only from a full date (YYYY-MM-DD)",
            )
        offset = value["offset"]
        amount = offset["value"]
        direction = "before" if amount < 0 else "after" if amount > 0 else "concurrent"
        relation = m.Relation(
            target,
            target_path,
            _relationship(direction, target_path),
            m.Quantity(abs(amount), offset["unit"]),
        )
        try:
            derived = _shift(dt.date.fromisoformat(base), amount, offset["unit"])
        except (OverflowError, ValueError):
            raise self.locator.error(
                (*path, "offset"),
                f"{base} shifted by {amount} {offset['unit']} is not a date of the calendar",
                "give the offset the source states",
            ) from None
        return m.When(derived.isoformat(), how=value["how"], relation=relation)

    def _anchor(self, target: str, anchor: str | None, path: Path_) -> tuple[str, str]:
        """The FHIRPath and the stated date of the fact a date is derived from or follows."""
        if _DATE.match(target):
            raise self.locator.error(
                path,
                f"'{target}' is a date; this field names the fact whose stated date is meant",
                "give the id of that fact (for example the encounter or procedure)",
            )
        self._ref(target, path)
        section = self.section_of[target]
        fields = DATE_FIELDS.get(section, {})
        raw = self.raw[target]
        found: dict[str, tuple[str, str]] = {}  # anchor -> (FHIRPath, date)
        for key, (field, fhir_path) in fields.items():
            value = raw.get(field)
            if isinstance(value, str):
                if key == "date":
                    found["start"] = found["end"] = (fhir_path, value)
                else:
                    found[key] = (fhir_path, value)
            elif isinstance(value, dict) and key == "date":
                for end in ("start", "end"):
                    if isinstance(value.get(end), str):
                        found[end] = (f"{fhir_path}.{end}", value[end])
        stated = {key: found[key] for key in ("start", "end") if key in found}
        if anchor is None:
            distinct = set(stated.values())
            if len(distinct) > 1:
                raise self.locator.error(
                    path,
                    f"'{target}' has a stated start and end",
                    "add anchor: start or anchor: end",
                )
            if not distinct:
                raise self.locator.error(
                    path,
                    f"'{target}' has no stated date to count from",
                    "count only from a fact whose date the source states",
                )
            return distinct.pop()
        if anchor not in stated:
            raise self.locator.error(
                path,
                f"'{target}' has no stated {anchor} date to count from",
                "count only from a date the source states",
            )
        return stated[anchor]

    def _period(self, value: dict[str, Any], path: Path_) -> m.Period:
        start = self._when(value["start"], (*path, "start")) if "start" in value else None
        end = self._when(value["end"], (*path, "end")) if "end" in value else None
        if (
            start
            and end
            and start.date
            and end.date
            and _sort_key(end.date) < _sort_key(start.date)
        ):
            raise self.locator.error(
                path,
                f"the period ends ({end.date}) before it starts ({start.date})",
                "swap or correct the dates",
            )
        return m.Period(start, end)

    def _site(self, value: dict[str, Any] | None, path: Path_) -> m.Site | None:
        if value is None:
            return None
        return m.Site(
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value["text"],
            laterality=value.get("laterality"),
        )

    def _notes(self, values: list[dict[str, Any]] | None, path: Path_) -> tuple[m.Note, ...]:
        return tuple(
            m.Note(
                note["text"],
                self._quotes(note["quote"], (*path, index, "quote")) if "quote" in note else (),
            )
            for index, note in enumerate(values or [])
        )

    def _timing(self, value: dict[str, Any] | None) -> m.Timing | None:
        if value is None:
            return None
        return m.Timing(
            frequency=value["frequency"],
            period=value["period"],
            period_unit=value["period_unit"],
            count=value.get("count"),
            duration=value.get("duration"),
            duration_unit=value.get("duration_unit"),
        )

    # -- sections ------------------------------------------------------------------------------

    def _source(self, value: dict[str, Any]) -> m.Source:
        published = value.get("published")
        return m.Source(
            citation=value["citation"],
            doi=value.get("doi"),
            url=value.get("url"),
            published=self._date(published, ("source", "published")) if published else None,
            license=value.get("license"),
            text_file=value["text"],
        )

    def _organization(self, value: dict[str, Any], path: Path_) -> m.Organization:
        return m.Organization(
            id=value["id"],
            name=value["name"],
            alias=tuple(value.get("alias", ())),
            part_of=self._ref(value.get("part_of"), (*path, "part_of"), "organizations"),
            city=value.get("city"),
            state=value.get("state"),
            country=value.get("country"),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _patient(self, value: dict[str, Any]) -> m.Patient:
        path: Path_ = ("patient",)
        age = value.get("age")
        quotes = self._quotes(value["quote"], (*path, "quote"))
        return m.Patient(
            id=value["id"],
            gender=value["gender"],
            age=m.Age(
                age["value"],
                self._date(age["date"], (*path, "age", "date")),
                self._quotes(age["quote"], (*path, "age", "quote")) if "quote" in age else quotes,
            )
            if age
            else None,
            deceased=value.get("deceased"),
            managing_organization=self._ref(
                value.get("managing_organization"),
                (*path, "managing_organization"),
                "organizations",
            ),
            quotes=quotes,
        )

    def _encounter(self, value: dict[str, Any], path: Path_) -> m.Encounter:
        return m.Encounter(
            id=value["id"],
            status=value["status"],
            encounter_class=value["class"],
            period=self._period(
                {key: value[key] for key in ("start", "end") if key in value}, path
            ),
            text=value["text"],
            reasons=self._refs(value.get("reason"), (*path, "reason"), "conditions"),
            service_provider=self._ref(
                value.get("service_provider"), (*path, "service_provider"), "organizations"
            ),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _condition(self, value: dict[str, Any], path: Path_) -> m.Condition:
        refuted = value["verification"] == "refuted"
        if refuted != (value["role"] == "refuted"):
            raise self.locator.error(
                (*path, "verification"),
                "a condition is refuted exactly when its role is 'refuted'",
                "set both role and verification to 'refuted', or neither",
            )
        if refuted and "clinical_status" in value:
            raise self.locator.error(
                (*path, "clinical_status"),
                "a refuted condition has no clinical status",
                "remove clinical_status",
            )
        if not refuted and "clinical_status" not in value:
            raise self.locator.error(
                path, "missing required field 'clinical_status'", "add clinical_status"
            )
        related = self._ref(value.get("related_primary"), (*path, "related_primary"), "conditions")
        onset = value.get("onset")
        asserted = value.get("asserted")
        histology = None
        if "histology" in value:
            histology = self._code(value["histology"], (*path, "histology"))
            self._check_behaviour(histology, value["id"], (*path, "histology"))
        return m.Condition(
            id=value["id"],
            role=value["role"],
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value["text"],
            histology=histology,
            related_primary=related,
            body_site=self._site(value.get("body_site"), (*path, "body_site")),
            clinical_status=value.get("clinical_status"),
            verification=value["verification"],
            onset=self._when(onset, (*path, "onset")) if onset is not None else None,
            asserted=self._date(asserted, (*path, "asserted")) if asserted else None,
            evidence=self._refs(
                value.get("evidence"), (*path, "evidence"), "observations", "reports"
            ),
            notes=self._notes(value.get("notes"), (*path, "notes")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _check_behaviour(self, code: m.CodeRef, condition: str, path: Path_) -> None:
        """mCODE: an ICD-O-3 morphology of a primary cancer has behaviour /1, /2 or /3, of a
        secondary cancer /6."""
        role = self.raw[condition]["role"]
        allowed = BEHAVIOURS.get(role)
        if code.system != ICD_O_3 or allowed is None or "/" not in code.code:
            return
        behaviour = code.code.rsplit("/", 1)[1]
        if behaviour not in allowed:
            wanted = " or ".join(f"/{digit}" for digit in sorted(allowed))
            raise self.locator.error(
                path,
                f"ICD-O-3 {code.code} has behaviour /{behaviour}, but '{condition}' is a "
                f"{role} condition, whose morphology mCODE codes with behaviour {wanted}",
                f"use the {wanted} code (if the register has it) or carry the morphology as text",
            )

    def _tumor(self, value: dict[str, Any], path: Path_) -> m.Tumor:
        condition = self._ref(value["condition"], (*path, "condition"), "conditions")
        location = self._site(value["location"], (*path, "location")) or _never()
        site = self.raw[condition or _never()].get("body_site") or {}
        same_site = set(site.get("code", ())) & set(value["location"].get("code", ()))
        if same_site and site.get("laterality") != location.laterality:
            raise self.locator.error(
                (*path, "location", "laterality"),
                f"the tumor's laterality ({location.laterality or 'none'}) differs from that of "
                f"its condition '{condition}' at the same site "
                f"({site.get('laterality') or 'none'})",
                "give the tumor and its condition the same laterality",
            )
        return m.Tumor(
            id=value["id"],
            condition=condition or _never(),
            location=location,
            morphology=self._codes(value.get("morphology"), (*path, "morphology")),
            description=value["description"],
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _procedure(self, value: dict[str, Any], path: Path_) -> m.Procedure:
        self._check_procedure_status(value, path)
        performed = value.get("performed")
        when: m.When | m.Period | None = None
        if isinstance(performed, dict) and {"start", "end"} & set(performed):
            when = self._period(performed, (*path, "performed"))
        elif performed is not None:
            when = self._when(performed, (*path, "performed"))
        return m.Procedure(
            id=value["id"],
            status=value.get("status", "completed"),
            status_reason=value.get("status_reason"),
            codes=self._codes(value["code"], (*path, "code")),
            text=value["text"],
            body_site=self._site(value.get("body_site"), (*path, "body_site")),
            performed=when,
            encounter=self._ref(value.get("encounter"), (*path, "encounter"), "encounters"),
            reasons=self._refs(value.get("reason"), (*path, "reason"), "conditions"),
            reports=self._refs(value.get("report"), (*path, "report"), "reports"),
            notes=self._notes(value.get("notes"), (*path, "notes")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _check_procedure_status(self, value: dict[str, Any], path: Path_) -> None:
        """A procedure done has a performed date (or says why not); one not done has a reason
        and no date."""
        if value.get("status", "completed") == "completed":
            if "performed" not in value:
                raise self.locator.error(
                    path,
                    "missing required field 'performed'",
                    "add performed: a date, a derived date, or {text: ...} if the source gives "
                    "none (or status: not-done with status_reason)",
                )
            if "status_reason" in value:
                raise self.locator.error(
                    (*path, "status_reason"),
                    "only a procedure that was not done has a status_reason",
                    "remove status_reason, or set status: not-done",
                )
            return
        if "performed" in value:
            raise self.locator.error(
                (*path, "performed"),
                "a procedure that was not done has no performed date",
                "remove performed, or set status: completed",
            )
        if "status_reason" not in value:
            raise self.locator.error(
                path,
                "a procedure that was not done needs 'status_reason'",
                "add status_reason: why it was not done",
            )

    def _medication(self, value: dict[str, Any], path: Path_) -> m.Medication:
        requester = self._ref(value.get("requester"), (*path, "requester"), "organizations")
        reasons = self._refs(value.get("reason"), (*path, "reason"), "conditions")
        if value.get("cancer_related") and not reasons:
            raise self.locator.error(
                path,
                "a cancer-related medication needs a reason",
                "add 'reason' with the id of the condition it treats",
            )
        route = value.get("route")
        return m.Medication(
            id=value["id"],
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value["text"],
            status=value["status"],
            cancer_related=bool(value.get("cancer_related")),
            reasons=reasons,
            dose=self._quantity(value.get("dose"), (*path, "dose"), positive="a dose"),
            rate=self._quantity(value.get("rate"), (*path, "rate"), positive="a rate"),
            dose_basis=value.get("dose_basis"),
            route=self._code(route, (*path, "route")) if route else None,
            timing=self._timing(value["timing"]) or _never(),
            cycle=self._cycle(value, path),
            bounds=self._period(
                {key: value[key] for key in ("start", "end") if key in value}, path
            ),
            requester=requester,
            prior=self._ref(value.get("prior"), (*path, "prior"), "medications"),
            instruction=value["instruction"],
            notes=self._notes(value.get("notes"), (*path, "notes")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _cycle(self, value: dict[str, Any], path: Path_) -> m.Cycle | None:
        cycle = value.get("cycle")
        if cycle is None:
            return None
        if not cycle["first_day"] <= cycle["last_day"] <= cycle["length"]:
            raise self.locator.error(
                (*path, "cycle"),
                f"days {cycle['first_day']}..{cycle['last_day']} are not days of a "
                f"{cycle['length']}-day cycle",
                "give 1 <= first_day <= last_day <= length",
            )
        timing = value["timing"]
        if (timing["period"], timing["period_unit"]) != (1, "d") or "count" in timing:
            raise self.locator.error(
                (*path, "timing"),
                "with a cycle, the timing is the schedule of one dose day",
                "give timing {frequency: N, period: 1, period_unit: d} and put the days in cycle",
            )
        return m.Cycle(cycle["length"], cycle["first_day"], cycle["last_day"])

    def _observation(self, value: dict[str, Any], path: Path_) -> m.Observation:
        kind = value["kind"]
        self._require_for_kind(value, path)
        focus_sections = {
            "tumor-size": ("tumors",),
            "disease-status": ("conditions",),
            "histology": ("conditions",),
        }
        method = value.get("method")
        raw_value = value.get("value")
        focus = self._ref(value.get("focus"), (*path, "focus"), *focus_sections.get(kind, SECTIONS))
        observed = self._value(raw_value, (*path, "value")) if raw_value else None
        self._check_morphology(kind, focus, observed, path)
        return m.Observation(
            id=value["id"],
            kind=kind,
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value.get("text"),
            date=self._when(value["date"], (*path, "date")),
            body_site=self._site(value.get("body_site"), (*path, "body_site")),
            value=observed,
            focus=focus,
            method=self._method(method, (*path, "method")) if method else None,
            longest=self._quantity(value.get("longest"), (*path, "longest"), positive="a size"),
            other=tuple(
                self._quantity(q, (*path, "other", index), positive="a size") or _never()
                for index, q in enumerate(value.get("other", ()))
            ),
            evidence=self._codes(value.get("evidence"), (*path, "evidence")),
            derived_from=self._refs(
                value.get("derived_from"), (*path, "derived_from"), "observations"
            ),
            encounter=self._ref(value.get("encounter"), (*path, "encounter"), "encounters"),
            part_of=self._ref(value.get("part_of"), (*path, "part_of"), "procedures"),
            notes=self._notes(value.get("notes"), (*path, "notes")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _check_morphology(
        self,
        kind: str,
        focus: str | None,
        observed: m.ObservationValue | None,
        path: Path_,
    ) -> None:
        """A coded morphology is an mCODE HistologicBehaviorAndType result (LOINC 31206-6),
        never a narrative-type pathology code; its behaviour fits its condition."""
        morphologies = [c for c in (observed.codes if observed else ()) if c.system == ICD_O_3]
        if kind == "pathology" and morphologies:
            raise self.locator.error(
                (*path, "value", "code"),
                "a pathology result with a coded ICD-O-3 morphology is a histology result",
                "use kind: histology (mCODE HistologicBehaviorAndType) with focus: the condition, "
                "or give the morphology as text",
            )
        if kind != "histology":
            return
        if observed is None or len(morphologies) != 1 or len(observed.codes) != 1:
            raise self.locator.error(
                (*path, "value"),
                "a histology result's value is one ICD-O-3 morphology code",
                "give value: {code: [ICD-O-3 NNNN/B], text: ...}",
            )
        self._check_behaviour(morphologies[0], focus or _never(), (*path, "value", "code"))

    def _require_for_kind(self, value: dict[str, Any], path: Path_) -> None:
        kind = value["kind"]
        needed = {
            "tumor-size": ("focus", "longest"),
            "disease-status": ("focus", "value"),
            "histology": ("focus", "value"),
        }.get(kind, ("value",))
        for field in needed:
            if field not in value:
                raise self.locator.error(
                    path,
                    f"a '{kind}' observation needs '{field}'",
                    f"add '{field}' (see docs/case-file.md)",
                )
        if kind not in ("tumor-size", "disease-status", "histology") and not (
            value.get("code") or value.get("text")
        ):
            raise self.locator.error(
                path, "an observation needs 'code' or 'text'", "name what was observed"
            )

    def _quantity(
        self, value: dict[str, Any] | None, path: Path_, positive: str | None = None
    ) -> m.Quantity | None:
        """A quantity; ``positive`` names what must be more than 0 (a dose, a size)."""
        if value is None:
            return None
        if positive and not value["value"] > 0:
            raise self.locator.error(
                (*path, "value"),
                f"{positive} of {value['value']} {value['unit']}: {positive} must be more than 0",
                "give the value the source states, or leave the fact out",
            )
        problem = check_unit(value["unit"])
        if problem is not None:
            meant = suggest(value["unit"])
            raise self.locator.error(
                (*path, "unit"),
                f"'{value['unit']}' is not a UCUM unit ({problem})",
                f"write the UCUM code{f', probably {meant}' if meant else ''}",
            )
        return m.Quantity(value["value"], value["unit"])

    def _value(self, value: dict[str, Any], path: Path_) -> m.ObservationValue:
        if "absent" in value and len(value) > 1:
            raise self.locator.error(
                (*path, "absent"),
                "a value cannot be both given and absent",
                "remove 'absent', or the value",
            )
        return m.ObservationValue(
            string=value.get("string"),
            quantity=self._quantity(value.get("quantity"), (*path, "quantity")),
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value.get("text"),
            absent=value.get("absent"),
        )

    def _method(self, value: str | dict[str, Any], path: Path_) -> m.Method:
        if isinstance(value, str):
            return m.Method((self._code(value, path),), None)
        return m.Method((), value["text"])

    def _report(self, value: dict[str, Any], path: Path_) -> m.Report:
        return m.Report(
            id=value["id"],
            category=value["category"],
            codes=self._codes(value.get("code"), (*path, "code")),
            text=value["text"],
            date=self._when(value["date"], (*path, "date")),
            results=self._refs(value["results"], (*path, "results"), "observations"),
            conclusion=value["conclusion"],
            conclusion_codes=self._codes(value.get("conclusion_code"), (*path, "conclusion_code")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _plan(self, value: dict[str, Any], path: Path_) -> m.Plan:
        return m.Plan(
            id=value["id"],
            codes=self._codes(value["code"], (*path, "code")),
            text=value["text"],
            timing=self._timing(value.get("timing")),
            reasons=self._refs(value.get("reason"), (*path, "reason"), "conditions"),
            quotes=self._quotes(value["quote"], (*path, "quote")),
            notes=self._notes(value.get("notes"), (*path, "notes")),
        )

    def _care_plan(self, value: dict[str, Any], path: Path_) -> m.CarePlan:
        return m.CarePlan(
            id=value["id"],
            title=value["title"],
            description=value.get("description"),
            status=value["status"],
            period=self._period(
                {key: value[key] for key in ("start", "end") if key in value}, path
            ),
            addresses=self._refs(value.get("addresses"), (*path, "addresses"), "conditions"),
            activities=self._refs(
                value["activities"], (*path, "activities"), "medications", "plans"
            ),
            supporting_info=self._refs(value.get("supporting_info"), (*path, "supporting_info")),
            notes=self._notes(value.get("notes"), (*path, "notes")),
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )

    def _flag(self, value: dict[str, Any], path: Path_) -> m.Flag:
        return m.Flag(
            id=value["id"],
            severity=value["severity"],
            implicated=self._refs(value["implicated"], (*path, "implicated")),
            detail=value["detail"],
            quotes=self._quotes(value["quote"], (*path, "quote")),
        )


# Fields that chain facts of one section; a chain must not come back to where it started.
CHAINS = (
    ("organizations", "part_of", "is part of"),
    ("medications", "prior", "follows"),
    ("observations", "derived_from", "is derived from"),
    ("conditions", "related_primary", "is related to"),
)


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A circle in a graph, as the facts on it with the first one repeated at the end."""
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, next_edge = stack.pop()
            if next_edge == 0:
                path.append(node)
                on_path.add(node)
            targets = edges.get(node, [])
            if next_edge < len(targets):
                stack.append((node, next_edge + 1))
                target = targets[next_edge]
                if target in on_path:
                    return [*path[path.index(target) :], target]
                if target not in done:
                    stack.append((target, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
    return None


def _relationship(direction: str, target_path: str) -> m.Relationship:
    """FHIR's action-relationship-type for a direction and the date counted from."""
    end = target_path.rsplit(".", 1)[-1]
    if end not in ("start", "end"):
        relationship = direction
    elif direction == "concurrent":
        relationship = f"concurrent-with-{end}"
    else:
        relationship = f"{direction}-{end}"
    return cast(m.Relationship, relationship)


def _never() -> Any:
    raise AssertionError("the schema guarantees this value")


def _shift(date: dt.date, value: int, unit: str) -> dt.date:
    if unit == "d":
        return date + dt.timedelta(days=value)
    if unit == "wk":
        return date + dt.timedelta(weeks=value)
    months = value * (12 if unit == "a" else 1)
    year, month = divmod(date.month - 1 + months, 12)
    year, month = date.year + year, month + 1
    return date.replace(year=year, month=month, day=min(date.day, monthrange(year, month)[1]))


def _sort_key(date: str) -> str:
    return date.ljust(10, "0")


def _shorten(text: str, limit: int = 60) -> str:
    text = normalise_whitespace(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
