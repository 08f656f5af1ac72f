"""What the sample town's resources are called and how they run, category by category.

Each maker returns the descriptive columns of one resource (name, provider, schedule …) for a
resource placed in a given block; names are fictional and use no real brand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CATALOGUE", "Place", "Spec"]

WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
_WEEKDAY_WEIGHTS = np.array([0.2, 0.2, 0.2, 0.2, 0.17, 0.03, 0.0])
_WORDS = (
    "ひだまり", "ひまわり", "すみれ", "たんぽぽ", "つばき", "あおぞら", "みどり", "こもれび",
    "やすらぎ", "ほほえみ", "なごみ", "わかば", "はなみずき", "かえで", "あじさい", "きずな",
    "いこい", "せせらぎ", "もみじ", "ゆうゆう", "のぞみ", "あさひ", "そよかぜ", "なのはな",
    "さつき", "すずらん", "コスモス", "オリーブ", "さざんか", "ききょう", "ふたば", "ひかり",
    "ゆずりは", "あかね", "しらかば", "けやき", "くすのき", "いちょう", "なでしこ", "れんげ",
)
_WEEKDAYS_ONLY = "月,火,水,木,金"
_EVERY_DAY = "月,火,水,木,金,土,日"
_CARE_FEE = "介護保険の自己負担(1〜3割)"


@dataclass(frozen=True)
class Place:
    """Where a resource is being placed: its block's town (町) name and its districts."""

    town: str
    es_id: str
    jhs_id: str
    la_id: str
    rural: bool


@dataclass(frozen=True)
class Spec:
    """How many resources of a category, where they go and what they look like.

    ``weight`` names the block weighting: ``pop65`` (older residents), ``pop`` (residents),
    ``central`` (residents, favouring the centre), ``outer65`` (older residents outside the
    centre), ``office`` (residents of built-up blocks). ``where(k)`` may restrict the k-th
    resource to blocks with a given ``(column, value)``: ``("la_id", "LA2")``,
    ``("urban", "no")``, ``("centre", "yes")``.
    """

    category: str
    count: int
    weight: str
    avoid_gaps: bool
    make: Callable[[np.random.Generator, Place, int], dict]
    where: Callable[[int], tuple[str, str] | None] = lambda k: None


def _pick(rng: np.random.Generator, options: tuple, p: tuple[float, ...] | None = None):
    return options[int(rng.choice(len(options), p=None if p is None else np.array(p) / sum(p)))]


def _word(rng: np.random.Generator) -> str:
    return _pick(rng, _WORDS)


def _days(rng: np.random.Generator, n: int) -> list[str]:
    picked = rng.choice(7, size=n, replace=False, p=_WEEKDAY_WEIGHTS / _WEEKDAY_WEIGHTS.sum())
    return [WEEKDAYS[i] for i in sorted(picked)]


def _weekly(rng: np.random.Generator, times: tuple[str, ...], n_days: int = 1) -> tuple[str, str]:
    days = _days(rng, n_days)
    return f"毎週{'・'.join(days)}曜 {_pick(rng, times)}", ",".join(days)


def _monthly(rng: np.random.Generator, times: tuple[str, ...]) -> tuple[str, str]:
    day = _days(rng, 1)[0]
    weeks = _pick(rng, ("第1", "第2", "第3", "第4", "第1・第3", "第2・第4"), (2, 2, 2, 2, 1, 1))
    return f"毎月{weeks}{day}曜 {_pick(rng, times)}", day


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _capacity(rng: np.random.Generator, low: int, high: int, empty_share: float = 0.0) -> int | None:
    return None if rng.random() < empty_share else int(rng.integers(low, high + 1))


def _row(name: str, provider: str, schedule: str | None, days: str | None, capacity: int | None,
         fee: str | None, target: str | None, *, served: str | None = None,
         source: str = "さくら市社会資源調査2026", notes: str | None = None) -> dict:
    return {"name": name, "provider_type": provider, "schedule": schedule, "days_of_week": days,
            "capacity": capacity, "fee": fee, "target": target, "served_area_id": served,
            "source": source, "notes": notes}


def _hall(place: Place) -> str:
    return f"{place.town}公民館" if place.rural else f"{place.town}集会所"


# ---------------------------------------------------------------- places people walk to


def _salon(rng: np.random.Generator, place: Place, k: int) -> dict:
    provider = _pick(rng, ("resident", "shakyo", "npo", "social_welfare_corp"), (70, 15, 10, 5))
    name = _pick(rng, (f"{place.town}ふれあいサロン", f"{place.town}いきいきサロン",
                       f"サロン{_word(rng)}", f"{place.town}お茶のみサロン", f"みんなの居場所{_word(rng)}"))
    if rng.random() < 0.5:
        schedule, days = _monthly(rng, ("13:30-15:30", "10:00-12:00", "13:00-15:00"))
    else:
        schedule, days = _weekly(rng, ("10:00-12:00", "13:30-15:30"))
    notes = _pick(rng, (f"会場: {_hall(place)}", "新しい参加者歓迎", "送迎なし", None), (4, 2, 1, 3))
    return _row(name, provider, schedule, days, _capacity(rng, 15, 30, 0.15),
                _pick(rng, ("無料", "100円", "200円(お茶代)"), (3, 4, 2)),
                _pick(rng, ("おおむね65歳以上", "地域の高齢者どなたでも", "どなたでも")),
                source=_pick(rng, ("さくら市社協 サロン一覧(2026年度)", "さくら市社会資源調査2026"), (3, 1)),
                notes=notes)


def _kayoi(rng: np.random.Generator, place: Place, k: int) -> dict:
    provider = _pick(rng, ("resident", "shakyo", "government"), (85, 10, 5))
    name = _pick(rng, (f"{place.town}いきいき百歳体操", f"{place.town}元気アップ体操の会",
                       f"{place.town}はつらつ体操クラブ", f"{place.town}ころばん体操"), (4, 2, 2, 1))
    schedule, days = _weekly(rng, ("10:00-11:00", "9:30-10:30", "14:00-15:00"), n_days=1 + int(rng.random() < 0.25))
    return _row(name, provider, schedule, days, _capacity(rng, 10, 25, 0.1),
                _pick(rng, ("無料", "100円", "月300円"), (5, 2, 1)),
                _pick(rng, ("おおむね65歳以上", "介護予防に関心のある方")),
                source="さくら市 通いの場一覧(2026年度)", notes=f"会場: {_hall(place)}")


def _shared_meal(rng: np.random.Generator, place: Place, k: int) -> dict:
    provider = _pick(rng, ("resident", "npo", "shakyo", "coop"), (5, 2, 2, 1))
    name = _pick(rng, (f"{place.town}ふれあい会食会", f"地域食堂{_word(rng)}", f"{place.town}みんなの食堂"))
    schedule, days = _monthly(rng, ("11:30-13:00", "11:00-13:00"))
    return _row(name, provider, schedule, days, _capacity(rng, 20, 40),
                _pick(rng, ("1食300円", "1食400円", "1食300円(子ども無料)")),
                _pick(rng, ("おおむね65歳以上の一人暮らしの方", "どなたでも")), notes="要申込(前週まで)")


def _shopping(rng: np.random.Generator, place: Place, k: int) -> dict:
    if k < 10:  # 移動販売 stops
        start = int(_pick(rng, (600, 640, 680, 810, 850, 890, 930)))  # minutes after midnight
        days = _days(rng, 2)
        return _row(f"移動スーパーさくら号 {place.town}停留所", "company",
                    f"毎週{'・'.join(days)}曜 {_clock(start)}-{_clock(start + 20)}", ",".join(days), None,
                    "無料(商品代のみ)",
                    "どなたでも", notes=f"{_hall(place)}前に停車")
    if k < 13:  # 移動スーパー routes, by 中学校区
        return _row(f"移動スーパーさくら号 {place.town}ルート", "company", "火・金曜 10:00-16:00",
                    "火,金", None, "無料(商品代のみ)", "どなたでも", served=place.jhs_id,
                    notes="自宅前への停車は要相談")
    if k < 15:
        return _row(f"買い物支援バス({place.town}方面)", _pick(rng, ("shakyo", "government")),
                    "毎週木曜 9:30-12:00", "木", 12, "無料", "おおむね65歳以上で買い物が困難な方",
                    served=place.jhs_id, notes="市内スーパーまで送迎、要予約")
    if k < 17:
        return _row(f"NPO法人{_word(rng)} 買い物代行", "npo", "平日 9:00-17:00(前日までに予約)",
                    _WEEKDAYS_ONLY, 30, "1回300円", "買い物が困難な高齢者", served=place.la_id)
    return _row(f"{place.town}商店会 御用聞きサービス", "company", "月〜土 10:00-17:00",
                "月,火,水,木,金,土", None, "無料(配達は500円以上)", "どなたでも", served=place.jhs_id)


def _dementia_cafe(rng: np.random.Generator, place: Place, k: int) -> dict:
    provider = _pick(rng, ("social_welfare_corp", "medical_corp", "npo", "shakyo", "resident"))
    name = "オレンジカフェさくら" if k == 0 else _pick(
        rng, (f"オレンジカフェ{_word(rng)}", f"認知症カフェ{_word(rng)}", f"{place.town}オレンジカフェ"))
    schedule, days = _monthly(rng, ("13:30-15:30", "10:00-12:00"))
    return _row(name, provider, schedule, days, _capacity(rng, 10, 20),
                _pick(rng, ("100円", "200円", "無料")), "認知症の方とその家族、地域の方どなたでも",
                notes="専門職による相談あり")


def _consultation(rng: np.random.Generator, place: Place, k: int) -> dict:
    office_hours, days = "平日 8:30-17:15", _WEEKDAYS_ONLY
    if k < 3:
        provider = ("shakyo", "social_welfare_corp", "medical_corp")[k]
        return _row(f"さくら市第{k + 1}圏域地域包括支援センター", provider, office_hours, days, None,
                    "無料", "高齢者とその家族、地域の方", served=f"LA{k + 1}",
                    notes="担当: " + f"第{k + 1}圏域")
    fixed = (
        ("さくら市役所 高齢福祉課", "government", "市民どなたでも", None),
        ("さくら市社会福祉協議会", "shakyo", "市民どなたでも", "生活支援コーディネーター(第1層)配置"),
        ("さくら市 福祉総合相談窓口", "government", "市民どなたでも", "高齢・障がい・生活困窮の相談"),
    )
    if k < 6:
        name, provider, target, notes = fixed[k - 3]
        return _row(name, provider, office_hours, days, None, "無料", target, notes=notes)
    if k < 9:
        return _row(f"在宅介護支援センター{_word(rng)}", "social_welfare_corp", office_hours, days, None,
                    "無料", "高齢者とその家族")
    schedule, day = _monthly(rng, ("10:00-12:00", "13:30-15:30"))
    return _row(f"{place.town}ふれあい相談所", "resident", schedule, day, None, "無料",
                "地域の高齢者とその家族", notes="民生委員・児童委員が対応")


_CERTIFIED = "要支援・要介護認定を受けた方"
# (how many, name, provider weights (company, social welfare corp., medical corp., NPO),
#  capacity range, schedule, days, target, notes)
_CARE_KINDS = (
    (12, "デイサービス{w}", (6, 3, 1, 1), (18, 35), "月〜土 8:30-17:30", "月,火,水,木,金,土",
     _CERTIFIED, "送迎あり・入浴あり"),
    (8, "ヘルパーステーション{w}", (6, 3, 1, 1), None, "毎日 8:00-18:00", _EVERY_DAY, _CERTIFIED, None),
    (8, "{w}居宅介護支援事業所", (5, 3, 2, 0), None, "平日 8:30-17:30", _WEEKDAYS_ONLY,
     "要介護認定を受けた方", "ケアプランの作成"),
    (3, "小規模多機能ホーム{w}", (2, 3, 1, 1), (25, 29), "24時間", _EVERY_DAY, _CERTIFIED, "登録定員"),
    (4, "グループホーム{w}", (3, 3, 1, 0), (9, 18), "24時間", _EVERY_DAY,
     "認知症の診断を受けた要支援2以上の方", None),
    (3, "特別養護老人ホーム{w}園", (0, 1, 0, 0), (50, 100), "24時間", _EVERY_DAY, "原則要介護3以上の方", None),
    (2, "訪問看護ステーション{w}", (1, 0, 3, 0), None, "平日 9:00-17:00(24時間連絡可)", _WEEKDAYS_ONLY,
     "主治医の指示がある方", None),
)


def _kind(kinds: tuple, k: int) -> tuple:
    """The entry of ``kinds`` (each starting with its count) that the k-th resource falls in."""
    bounds = np.cumsum([kind[0] for kind in kinds])
    return kinds[int(np.searchsorted(bounds, k, side="right"))]


def _care_service(rng: np.random.Generator, place: Place, k: int) -> dict:
    _, template, weights, capacity, schedule, days, target, notes = _kind(_CARE_KINDS, k)
    provider = _pick(rng, ("company", "social_welfare_corp", "medical_corp", "npo"), weights)
    cap = None if capacity is None else int(rng.integers(capacity[0], capacity[1] + 1))
    if notes is None and rng.random() < 0.3:
        notes = "空きあり(2026年9月時点)"
    return _row(template.format(w=_word(rng)), provider, schedule, days, cap, _CARE_FEE, target,
                source="介護サービス情報公表システム(2026年9月)", notes=notes)


_CLINIC_HOURS = ("月〜金 9:00-12:00, 15:00-18:00 / 土 9:00-12:00", "月,火,水,木,金,土")
_MEDICAL_KINDS = (
    (1, "さくら市立病院", "government", ("月〜金 8:30-11:00(受付)", _WEEKDAYS_ONLY), "救急指定、地域連携室あり"),
    (1, "{w}病院", "medical_corp", ("月〜金 8:30-11:30(受付)", _WEEKDAYS_ONLY), None),
    (12, "{w}内科クリニック", "medical_corp", _CLINIC_HOURS, None),
    (8, "{w}歯科医院", "medical_corp", _CLINIC_HOURS, None),
    (4, "{w}整形外科", "medical_corp", _CLINIC_HOURS, None),
    (2, "{w}眼科", "medical_corp", _CLINIC_HOURS, None),
    (2, "{w}耳鼻咽喉科", "medical_corp", _CLINIC_HOURS, None),
    (1, "{w}皮膚科クリニック", "medical_corp", _CLINIC_HOURS, None),
    (1, "{w}在宅クリニック", "medical_corp", ("平日 9:00-17:00(往診は24時間対応)", _WEEKDAYS_ONLY),
     "訪問診療"),
    (3, "{t}診療所", "government", ("月・水・金 9:00-12:00", "月,水,金"), "国民健康保険診療所"),
)


def _medical(rng: np.random.Generator, place: Place, k: int) -> dict:
    _, template, provider, (schedule, days), notes = _kind(_MEDICAL_KINDS, k)
    if notes is None and rng.random() < 0.25:
        notes = _pick(rng, ("訪問診療あり", "駐車場あり", "バリアフリー対応"))
    return _row(template.format(w=_word(rng), t=place.town), provider, schedule, days, None, "保険診療",
                "どなたでも", source="さくら市医師会・歯科医師会 会員名簿(2026年)", notes=notes)


# ---------------------------------------------------------------- resources that come to people


def _meal_delivery(rng: np.random.Generator, place: Place, k: int) -> dict:
    provider = ("shakyo", "company", "company", "company", "company", "npo", "npo", "social_welfare_corp")[k % 8]
    name = {"shakyo": "さくら市社協 配食サービス", "company": f"お弁当の{_word(rng)}",
            "npo": f"NPO法人{_word(rng)} 配食サービス", "social_welfare_corp": f"{_word(rng)}苑 配食サービス"}[provider]
    lunch_only = rng.random() < 0.5
    return _row(name, provider, "月〜金 昼食" if lunch_only else "毎日 昼食・夕食",
                _WEEKDAYS_ONLY if lunch_only else _EVERY_DAY, _capacity(rng, 30, 120, 0.25),
                _pick(rng, ("1食500円", "1食550円", "1食600円")),
                "65歳以上の一人暮らし・高齢者のみの世帯", served=_pick(rng, (place.jhs_id, place.la_id)),
                notes="お届け時に安否確認")


def _watching(rng: np.random.Generator, place: Place, k: int) -> dict:
    kind = ("resident", "resident", "resident", "resident", "resident", "shakyo", "shakyo",
            "company", "company", "company", "coop", "coop")[k % 12]
    if kind == "resident":
        return _row(f"{place.town}見守り隊", "resident", "随時(声かけ・訪問)", None, None, "無料",
                    "一人暮らし高齢者・高齢者のみ世帯", served=place.jhs_id, notes="自治会・老人クラブの有志")
    if kind == "shakyo":
        return _row(f"さくら市社協 ふれあい見守りネットワーク(第{place.la_id[-1]}圏域)", "shakyo",
                    "毎週月曜 電話での安否確認", "月", None, "無料", "一人暮らし高齢者", served=place.la_id)
    if kind == "company":
        return _row(f"{_word(rng)}新聞店 配達時見守り", "company", "毎日(朝刊配達時)", _EVERY_DAY,
                    None, "無料", "購読者の高齢者", served=place.jhs_id, notes="異変時は包括に連絡(協定)")
    return _row("さくら生協 夕食宅配 見守り", "coop", "月〜金 夕方", _WEEKDAYS_ONLY, None, "無料",
                "利用者の高齢者", served=place.la_id, notes="異変時は包括に連絡(協定)")


def _mobility(rng: np.random.Generator, place: Place, k: int) -> dict:
    rows = (
        lambda: _row(f"NPO法人{_word(rng)} 移送サービス", "npo", "平日 9:00-16:00(前日までに予約)",
                     _WEEKDAYS_ONLY, None, "1km 100円", "要支援・要介護認定者、障がいのある方",
                     served=place.la_id, notes="福祉有償運送"),
        lambda: _row(f"{place.town}おでかけ支援隊", "resident", "火・金曜 9:00-15:00(要予約)", "火,金",
                     None, "片道200円(ガソリン代)", "おおむね65歳以上で外出が困難な方",
                     served=place.jhs_id, notes="訪問型サービスD"),
        lambda: _row("さくら市デマンド交通 のりあい号", "government", "平日 8:00-17:00(30分前までに予約)",
                     _WEEKDAYS_ONLY, None, "1回300円", "市内在住で登録した方", served=place.la_id,
                     notes="自宅から市内の指定停留所まで"),
        lambda: _row(f"{_word(rng)}苑 外出支援", "social_welfare_corp", "毎週水曜 10:00-15:00", "水",
                     None, "無料", "一人暮らし高齢者", served=place.jhs_id),
        lambda: _row("さくら市社協 外出支援サービス", "shakyo", "平日 9:00-16:00(要予約)", _WEEKDAYS_ONLY,
                     None, "1回500円", "車いすを使う方", served=place.la_id),
    )
    return rows[(0, 1, 2, 1, 3, 4, 1, 0)[k % 8]]()


def _housework(rng: np.random.Generator, place: Place, k: int) -> dict:
    kind = ("shakyo", "npo", "resident", "company", "resident", "npo", "shakyo", "resident")[k % 8]
    name, fee = {
        "shakyo": (f"ささえあいサービス{_word(rng)}", "30分400円"),
        "npo": (f"NPO法人{_word(rng)} 生活支援", "1時間800円"),
        "resident": (f"{place.town}お助け隊", "30分300円"),
        "company": (f"家事代行{_word(rng)}", "1時間2,800円"),
    }[kind]
    served = place.la_id if kind in ("shakyo", "company") else place.jhs_id
    return _row(name, kind, "平日 9:00-17:00(要予約)", _WEEKDAYS_ONLY, _capacity(rng, 20, 40, 0.3), fee,
                "おおむね65歳以上で家事が困難な方", served=served,
                notes="訪問型サービスB" if kind == "resident" else None)


def _garbage(rng: np.random.Generator, place: Place, k: int) -> dict:
    if k < 4:
        return _row(f"{place.town}ゴミ出しお助け隊", "resident", "可燃ごみ収集日の朝(月・木)", "月,木",
                    _capacity(rng, 10, 30), _pick(rng, ("無料", "1回100円")),
                    "自分でごみを出すのが難しい高齢者", served=place.jhs_id)
    provider = ("shakyo", "npo")[k % 2]
    name = "さくら市社協 ゴミ出し支援" if provider == "shakyo" else f"NPO法人{_word(rng)} ゴミ出し・片付け"
    return _row(name, provider, "収集日の朝(要登録)", "月,火,木,金", _capacity(rng, 20, 40), "1回100円",
                "自分でごみを出すのが難しい高齢者", served=place.la_id)


def _where_shopping(k: int) -> tuple[str, str] | None:
    return ("jhs_id", ("J02", "J04", "J06")[k - 10]) if 10 <= k < 13 else None


def _where_consultation(k: int) -> tuple[str, str] | None:
    if k < 3:  # each 地域包括支援センター in its own 日常生活圏域
        return ("la_id", f"LA{k + 1}")
    return ("centre", "yes") if k < 6 else None  # 市役所, 社協, 総合相談 at the centre


def _where_medical(k: int) -> tuple[str, str] | None:
    return ("urban", "no") if k >= 32 else None  # 国保診療所 in the countryside


CATALOGUE: tuple[Spec, ...] = (
    Spec("salon", 40, "pop65", True, _salon),
    Spec("kayoi_no_ba", 35, "pop65", True, _kayoi),
    Spec("shared_meal", 10, "pop65", False, _shared_meal),
    Spec("meal_delivery", 8, "office", False, _meal_delivery),
    Spec("watching", 12, "pop65", False, _watching),
    Spec("shopping", 18, "outer65", False, _shopping, _where_shopping),
    Spec("mobility", 8, "office", False, _mobility),
    Spec("housework", 8, "office", False, _housework),
    Spec("garbage", 6, "pop65", False, _garbage),
    Spec("dementia_cafe", 8, "pop65", False, _dementia_cafe),
    Spec("consultation", 12, "office", False, _consultation, _where_consultation),
    Spec("care_service", 40, "pop", False, _care_service),
    Spec("medical", 35, "central", False, _medical, _where_medical),
)
