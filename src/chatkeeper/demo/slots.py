"""Slot fillers: the values that turn a dialogue template into a sentence.

A conversation's slots live in one :class:`Slots` mapping, filled lazily the first time a
template asks for a name, so that a conversation talks about one order, one product and one
amount from greeting to goodbye. Order numbers, tracking numbers, ticket and transaction ids are
decoys: long digit runs that are not personal data, shaped so they can never pass for a resident
ID number (18 characters) or a bank card (issuer prefix plus Luhn).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from random import Random

from chatkeeper.demo import pii
from chatkeeper.demo.people import REGIONS, Agent, Customer, make_name
from chatkeeper.demo.tables import words

# goods by kind, with their price range in yuan
_GOODS_TABLE = {
    "apparel": """
        羽绒服:399:1899 运动鞋:259:1299 冲锋衣:299:1599 登山鞋:399:1299 连衣裙:159:699
        牛仔裤:129:499 卫衣:99:399 衬衫:89:399 休闲裤:99:399 羊毛大衣:599:2599
    """,
    "appliance": """
        扫地机器人:999:3999 净水器:999:3999 洗碗机:2499:5999 电热水器:999:2999
        投影仪:1299:4999 空调挂机:1999:4999 油烟机:1299:3999 智能门锁:799:2599
    """,
    "device": """
        无线蓝牙耳机:99:899 智能手表:299:2599 机械键盘:199:899 显示器:699:2999
        笔记本电脑:3999:9999 手机:1299:7999 平板电脑:1999:5999 吹风机:149:2999
        电动牙刷:129:699 路由器:129:599 移动电源:79:299 蓝牙音箱:99:999 儿童手表:299:999
        空气炸锅:199:599 电饭煲:199:899 咖啡机:699:3999 破壁机:299:1599 微波炉:399:1299
    """,
    "other": """
        双肩包:99:599 保温杯:39:199 婴儿推车:599:2999 奶粉:198:498 面膜:79:299
        精华液:199:1299 口红:159:399 行李箱:299:1299 床上四件套:159:899 乳胶枕:99:399
        电竞椅:499:1999 加湿器:99:399 儿童自行车:299:999 行车记录仪:199:699 茶叶礼盒:168:888
        坚果礼包:59:199 瑜伽垫:49:199 猫粮:89:399 电动车头盔:69:299
    """,
}
GOODS_BY_KIND = {
    kind: tuple((name, int(low), int(high)) for name, low, high in (w.split(":") for w in words(t)))
    for kind, t in _GOODS_TABLE.items()
}
GOODS = tuple(item for items in GOODS_BY_KIND.values() for item in items)
COLORS = words("黑色 白色 灰色 蓝色 粉色 深空灰 香槟金 雾霾蓝 军绿色 米白色 酒红色 藏青色")
SIZES = words("S码 M码 L码 XL码 XXL码 均码 36码 38码 40码 42码 43码 44码")
STORES = words(
    """
    优品生活旗舰店 极客数码专营店 暖阳家居旗舰店 小熊母婴专营店 山野户外旗舰店 美肌官方旗舰店
    悦动运动专营店 匠心厨具旗舰店 星河电器官方店 元气零食铺 森林茶社 潮流前线服饰店
    安心宠物旗舰店 智选家电专营店 云端书屋
    """
)
COURIERS = words("顺丰速运 中通快递 圆通速递 韵达快递 京东物流 极兔速递 EMS 申通快递")
BRANDS = {
    "ecommerce": words("优选商城 乐购平台 惠买网"),
    "finance": words("恒信银行 安泰银行信用卡中心 众鑫消费金融"),
    "telecom": words("星网通信 华通移动 天联宽带"),
}
FUNDS = words("稳盈90天 季季享1号 安心理财180天 天天利现金管理 月月盈A款 恒益债券基金 智选混合基金")
CARD_PRODUCTS = words("白金信用卡 金卡 联名信用卡 标准卡 车主信用卡 青春卡")
MERCHANTS = words(
    "某某网络科技有限公司 财付通-游戏充值 支付宝-某电商平台 境外商户AMZN 美团外卖 "
    "某加油站 某连锁超市 京东支付-某店铺"
)
PLANS = (
    ("5G畅享套餐", (59, 129, 199, 299)),
    ("流量王套餐", (39, 59, 99)),
    ("全家享融合套餐", (169, 229, 299)),
    ("大王卡", (19, 29, 39)),
    ("5G智享套餐", (98, 128, 158, 198)),
)
SP_SERVICES = words("彩铃包月 视频会员流量包 游戏点卡包 手机报 来电提醒增强版 云盘会员 5G加速包")
PLACES = words("家里 公司 地下车库 小区电梯里 卧室 办公室 老家")
MALE_RELATIONS = words("老公 爸爸 儿子 哥哥 弟弟 同事 朋友")
FEMALE_RELATIONS = words("老婆 妈妈 女儿 姐姐 妹妹 同事 朋友")

Maker = Callable[["Slots"], str]


class Slots(dict[str, str]):
    """The slot values of one conversation, each made on first use and then kept."""

    __slots__ = ("agent", "customer", "industry", "rng", "start")

    def __init__(
        self,
        rng: Random,
        customer: Customer,
        agent: Agent,
        industry: str,
        start: datetime,
        **fixed: str,
    ) -> None:
        super().__init__(fixed)
        self.rng = rng
        self.customer = customer
        self.agent = agent
        self.industry = industry
        self.start = start

    def __missing__(self, key: str) -> str:
        value = MAKERS[key](self)
        self[key] = value
        return value


def _day(s: Slots, first: int, last: int) -> str:
    """A date ``first`` to ``last`` days from the start of the conversation, as people write it."""
    moment = s.start + timedelta(days=s.rng.randrange(first, last + 1))
    style = s.rng.random()
    if style < 0.5:
        return f"{moment.month}月{moment.day}日"
    if style < 0.8:
        return f"{moment.month}月{moment.day}号"
    return f"{moment.month}.{moment.day}"


def _yuan(low: float, high: float, rng: Random) -> str:
    value = rng.uniform(low, high)
    if rng.random() < 0.5:
        return f"{int(value)}"
    return f"{value:.2f}"


def _goods_of(*kinds: str) -> Maker:
    """A maker for goods of these kinds; the first one named becomes the conversation's goods."""
    pool = tuple(item for kind in kinds for item in GOODS_BY_KIND[kind])

    def make(s: Slots) -> str:
        if "goods" in s and any(s["goods"] == item[0] for item in pool):
            return s["goods"]
        name, low, high = s.rng.choice(pool)
        price = s.rng.randrange(low, high + 1)
        if "goods" not in s:
            s["goods"] = name
            s["price"] = f"{price - 1 if s.rng.random() < 0.6 else price}"
        return name

    return make


def _order(s: Slots) -> str:
    rng, day = s.rng, s.start - timedelta(days=s.rng.randrange(1, 30))
    roll = rng.random()
    if roll < 0.45:  # 19-digit marketplace order number
        return f"{rng.choice('1234')}{rng.randrange(10**17, 10**18)}"
    if roll < 0.75:  # 12-digit order number
        return f"{rng.randrange(10**11, 10**12)}"
    return f"{day:%y%m%d}-{rng.randrange(10**14, 10**15)}"  # 6 + 15 digits with a dash


def _courier(s: Slots) -> str:
    courier = s.rng.choice(COURIERS)
    rng = s.rng
    if courier == "顺丰速运":
        s["tracking"] = f"SF{rng.randrange(10**12, 10**13)}"
    elif courier == "京东物流":
        s["tracking"] = f"JDVA{rng.randrange(10**10, 10**11)}"
    elif courier == "EMS":
        s["tracking"] = f"E{rng.choice('ABMN')}{rng.randrange(10**8, 10**9)}CN"
    elif courier == "极兔速递":
        s["tracking"] = f"JT{rng.randrange(10**12, 10**13)}"
    else:
        s["tracking"] = f"{rng.choice('7734')}{rng.randrange(10**13, 10**14)}"  # 15 digits
    return courier


def _ticket(s: Slots) -> str:
    prefix = s.rng.choice(("GD", "TS", "WO", "CS"))
    return f"{prefix}{s.start:%Y%m%d}{s.rng.randrange(0, 100_000):05d}"


def _txn(s: Slots) -> str:
    return f"{s.start:%Y%m%d}{s.rng.randrange(10**11, 10**12)}"  # 20 digits


def _tax_id(s: Slots) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the unified social credit code alphabet
    tail = "".join(s.rng.choice(chars) for _ in range(7))
    area = s.rng.choice(("110105", "310115", "440300", "330106", "320106"))
    return f"91{area}MA{s.rng.choice('5678')}{tail}"


def _plan(s: Slots) -> str:
    name, fees = s.rng.choice(PLANS)
    s["plan_fee"] = str(s.rng.choice(fees))
    return name


def _other_name(s: Slots) -> str:
    male = s.rng.random() < 0.5
    s["other_gender"] = "m" if male else "f"
    return make_name(s.rng, male)[0]


def _relation(s: Slots) -> str:
    """How the customer is related to the other person they name (whose gender it matches)."""
    male = bool(s["other_name"]) and s["other_gender"] == "m"
    return s.rng.choice(MALE_RELATIONS if male else FEMALE_RELATIONS)


def _mr(s: Slots) -> str:
    name = s.customer.name
    surname = name[:2] if name.startswith("欧阳") else name[:1]
    return surname + ("先生" if s.customer.male else "女士")


def _id_card(s: Slots) -> str:
    value = s.customer.id_card
    return value.lower() if value.endswith("X") and s.rng.random() < 0.2 else value


def _pick(options: tuple[str, ...]) -> Maker:
    return lambda s: s.rng.choice(options)


def _int(low: int, high: int) -> Maker:
    return lambda s: str(s.rng.randrange(low, high + 1))


MAKERS: dict[str, Maker] = {
    # the customer's own data, as they would type it
    "name": lambda s: s.customer.name,
    "mr": _mr,
    "mobile": lambda s: pii.format_mobile(s.customer.mobile, s.rng),
    "mobile_tail": lambda s: s.customer.mobile[-4:],
    "id_card": _id_card,
    "id_tail": lambda s: s.customer.id_card[-4:],
    "card": lambda s: pii.format_card(s.customer.bank_card, s.rng),
    "card_tail": lambda s: s.customer.bank_card[-4:],
    "email": lambda s: s.customer.email,
    "address": lambda s: s.customer.address,
    "landline": lambda s: s.customer.landline,
    "plate": lambda s: s.customer.plate,
    "birthday": lambda s: f"{s.customer.birth.year}年{s.customer.birth.month}月",
    # someone else the customer mentions
    "other_name": _other_name,
    "other_surname": lambda s: make_name(s.rng, True)[0][:1],
    "other_mobile": lambda s: pii.format_mobile(pii.make_mobile(s.rng), s.rng),
    "other_landline": lambda s: pii.make_landline(s.rng, s.rng.choice(REGIONS).phone_area),
    "other_card": lambda s: pii.format_card(pii.make_bank_card(s.rng), s.rng),
    "relation": _relation,
    # the agent and the company
    "agent_name": lambda s: s.agent.name,
    "agent_id": lambda s: s.agent.id,
    "brand": lambda s: s.rng.choice(BRANDS[s.industry]),
    # when
    "date": lambda s: _day(s, -20, -1),
    "date2": lambda s: _day(s, -60, -21),
    "later": lambda s: _day(s, 2, 10),
    "daypart": _pick(("上午", "中午", "下午", "晚上")),
    "hour": _int(8, 21),
    "pm_hour": _int(1, 6),
    "late_hour": _int(8, 11),
    "minutes": _pick(("10", "20", "30", "40")),
    "days": _pick(("1-3", "3-5", "3", "5", "7", "7-10", "15")),
    "hours": _pick(("2", "4", "12", "24", "48", "72")),
    "queue": _int(1, 18),
    "sms_code": lambda s: f"{s.rng.randrange(0, 1_000_000):06d}",
    "height": _int(150, 190),
    "weight": _int(90, 190),
    "hotline": lambda s: f"400-{s.rng.randrange(600, 999)}-{s.rng.randrange(1000, 9999)}",
    # e-commerce
    "goods": _goods_of("apparel", "appliance", "device", "other"),
    "apparel": _goods_of("apparel"),
    "appliance": _goods_of("appliance"),
    "device": _goods_of("device", "appliance"),
    "price": lambda s: (s["goods"], s["price"])[1],
    "goods2": lambda s: s.rng.choice(GOODS)[0],
    "qty": _pick(("1", "1", "1", "2", "2", "3", "5")),
    "color": _pick(COLORS),
    "size": _pick(SIZES),
    "store": _pick(STORES),
    "order": _order,
    "order2": _order,
    "courier": _courier,
    "tracking": lambda s: (s["courier"], s["tracking"])[1],
    "coupon": _pick(("5", "10", "20", "30", "50", "100", "200")),
    "refund": lambda s: _yuan(20, float(s["price"]), s.rng),
    "comp": _pick(("10", "20", "30", "50", "80", "100")),
    # finance
    "fund": _pick(FUNDS),
    "card_product": _pick(CARD_PRODUCTS),
    "merchant": _pick(MERCHANTS),
    "rate": lambda s: f"{s.rng.uniform(1.6, 4.2):.2f}%",
    "apr": lambda s: f"{s.rng.uniform(3.2, 18.0):.2f}%",
    "term": _pick(("3", "6", "12", "24", "36")),
    "limit": _pick(("2万", "3万", "5万", "8万", "10万", "15万", "20万")),
    "loan": lambda s: f"{s.rng.randrange(1, 50)}万",
    "txn_amount": lambda s: _yuan(50, 30_000, s.rng),
    "fee": lambda s: _yuan(10, 800, s.rng),
    "bill_day": _int(1, 28),
    "bill_day2": _int(1, 28),
    "overdue": _int(3, 120),
    # telecom
    "plan": _plan,
    "plan_fee": lambda s: (s["plan"], s["plan_fee"])[1],
    "data_gb": _pick(("10", "20", "30", "40", "60", "100")),
    "speed": _pick(("100M", "300M", "500M", "1000M", "2000M")),
    "sp": _pick(SP_SERVICES),
    "place": _pick(PLACES),
    "bill": lambda s: _yuan(30, 600, s.rng),
    "account": lambda s: f"KD{s.rng.randrange(10**9, 10**10)}",
    "penalty": _pick(("100", "200", "300", "500", "800", "1000")),
    "months": _int(2, 23),
    # tickets and transactions (decoys, not personal data)
    "ticket": _ticket,
    "txn_id": _txn,
    "tax_id": _tax_id,
}
