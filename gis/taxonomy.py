"""Category vocabularies with Chinese and English labels.

Incident categories follow the grouping used in Chinese grid-management practice
(治安/刑事 split into violent and property crime, plus the governance event classes of
GB/T 31000: disputes, petitions, fire, traffic). The database CHECK constraints are
generated from these tuples by the first migration; later changes need a migration.
"""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from .errors import InvalidInput
from .i18n import Lang, pick

INCIDENT_CATEGORIES = MappingProxyType({
    "violent_crime": ("暴力犯罪", "Violent crime"),
    "property_crime": ("侵财犯罪", "Property crime"),
    "gambling": ("赌博", "Gambling"),
    "drugs": ("涉毒", "Drugs"),
    "dispute": ("矛盾纠纷", "Dispute"),
    "petition": ("信访", "Petition"),
    "fire": ("火灾", "Fire"),
    "traffic": ("交通事故", "Traffic"),
    "public_order": ("治安秩序", "Public order"),
    "other": ("其他", "Other"),
})

PLACE_CATEGORIES = MappingProxyType({
    "school": ("学校", "School"),
    "kindergarten": ("幼儿园", "Kindergarten"),
    "hospital": ("医院", "Hospital"),
    "clinic": ("诊所", "Clinic"),
    "entertainment": ("娱乐场所", "Entertainment venue"),
    "bar": ("酒吧", "Bar / nightlife"),
    "restaurant": ("餐饮", "Restaurant"),
    "hotel": ("旅馆", "Hotel"),
    "rental_housing": ("出租屋", "Rental housing"),
    "market": ("市场", "Market"),
    "shop": ("商店", "Shop"),
    "supermarket": ("超市", "Supermarket"),
    "transport_hub": ("交通枢纽", "Transport hub"),
    "bank": ("银行", "Bank"),
    "government": ("党政机关", "Government office"),
    "religious": ("宗教场所", "Religious site"),
    "park": ("公园广场", "Park / square"),
    "fuel_station": ("加油站", "Fuel station"),
    "internet_cafe": ("网吧", "Internet café"),
    "police_post": ("派出所/警务站", "Police post"),
    "patrol_base": ("巡逻驻点", "Patrol base"),
    "other": ("其他", "Other"),
})

# Places patrols and responders start from (blind-spot reach).
POST_CATEGORIES = ("police_post", "patrol_base")

VISIT_KINDS = MappingProxyType({
    "visit": ("走访", "Visit"),
    "verification": ("核查", "Verification"),
})
VISIT_OUTCOMES = MappingProxyType({
    "verified": ("信息无误", "Verified"),
    "updated": ("信息已更新", "Updated"),
    "not_home": ("未见到人", "Nobody at home"),
    "moved_out": ("已迁出", "Moved out"),
    "other": ("其他", "Other"),
})

THING_TYPES = MappingProxyType({
    "camera": ("监控摄像头", "Camera"),
    "fire_hydrant": ("消防栓", "Fire hydrant"),
    "streetlight": ("路灯", "Streetlight"),
    "manhole": ("井盖", "Manhole cover"),
    "emergency_phone": ("报警柱", "Emergency call point"),
    "other": ("其他", "Other"),
})

SPECIAL_GROUPS = MappingProxyType({
    "community_correction": ("社区矫正人员", "Community correction"),
    "released_prisoner": ("刑满释放人员", "Released prisoner"),
    "drug_rehabilitation": ("社区戒毒康复人员", "Drug rehabilitation"),
    "serious_mental_illness": ("严重精神障碍患者", "Serious mental illness"),
    "youth_at_risk": ("重点青少年", "Youth at risk"),
})


def label(vocabulary: MappingProxyType, code: str, lang: Lang = "zh") -> str:
    """The label of a code in ``lang`` (the code itself when the vocabulary lacks it)."""
    return pick(vocabulary.get(code, (code, code)), lang)


def identifiers(codes) -> list[str]:
    """The codes, checked to be plain identifiers, for SQL built from the vocabularies."""
    for code in codes:
        if not code.replace("_", "").isalnum():
            raise ValueError(f"not a safe category code: {code!r}")
    return list(codes)


def sql_list(codes) -> str:
    """A SQL literal list for CHECK constraints; codes are our own identifiers."""
    return ", ".join(f"'{code}'" for code in identifiers(codes))


def check_codes(values, vocabulary: Collection[str], field: str) -> tuple[str, ...]:
    """The values (comma lists split, blanks dropped), sorted and de-duplicated; an
    unknown one is an InvalidInput that names it and the codes allowed."""
    codes = sorted({v.strip() for value in values or () for v in str(value).split(",")
                    if v.strip()})
    unknown = [c for c in codes if c not in vocabulary]
    if unknown:
        raise InvalidInput(f"unknown {field} {unknown[0]!r}; use one of "
                           f"{', '.join(vocabulary)}", field=field)
    return tuple(codes)
