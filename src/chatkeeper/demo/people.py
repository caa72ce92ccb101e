"""The synthetic people of the demo data: customers with stable personal data, and agents.

A customer is a pure function of ``(seed, index)``, so the generator can keep only a bounded
cache of them and still give each customer the same name, phone, ID number and card in every
conversation they have. Agents are drawn once per data set and belong to one department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random

from chatkeeper.demo import pii
from chatkeeper.demo.tables import pairs, rows, words

# province, city ("-" for the four municipalities), district, ID area code (GB/T 2260),
# landline area code, licence plate prefix, then the district's sub-districts (街道).
_REGION_TABLE = """
北京市 - 东城区   110101 010  京  东华门街道 景山街道 建国门街道
北京市 - 朝阳区   110105 010  京  建外街道 三里屯街道 望京街道
上海市 - 徐汇区   310104 021  沪  徐家汇街道 天平路街道 漕河泾街道
上海市 - 浦东新区 310115 021  沪  陆家嘴街道 花木街道 潍坊新村街道
广东省 深圳市 南山区 440305 0755 粤B 粤海街道 南头街道 蛇口街道
广东省 广州市 天河区 440106 020  粤A 天河南街道 石牌街道 猎德街道
浙江省 杭州市 西湖区 330106 0571 浙A 文新街道 西溪街道 北山街道
江苏省 南京市 鼓楼区 320106 025  苏A 湖南路街道 宁海路街道 华侨路街道
四川省 成都市 武侯区 510107 028  川A 浆洗街街道 玉林街道 望江路街道
湖北省 武汉市 洪山区 420111 027  鄂A 珞南街道 关山街道 洪山街道
陕西省 西安市 雁塔区 610113 029  陕A 小寨路街道 大雁塔街道 电子城街道
山东省 济南市 历下区 370102 0531 鲁A 泉城路街道 解放路街道 千佛山街道
福建省 厦门市 思明区 350203 0592 闽D 中华街道 鹭江街道 莲前街道
重庆市 - 渝中区   500103 023  渝A 解放碑街道 朝天门街道 大坪街道
天津市 - 和平区   120101 022  津  南市街道 小白楼街道 劝业场街道
河南省 郑州市 金水区 410105 0371 豫A 经八路街道 花园路街道 文化路街道
湖南省 长沙市 岳麓区 430104 0731 湘A 岳麓街道 望月湖街道 观沙岭街道
辽宁省 沈阳市 和平区 210102 024  辽A 太原街街道 南湖街道 北市场街道
"""


@dataclass(frozen=True, slots=True)
class Region:
    """A district people live in, with the codes that go with it."""

    province: str
    city: str
    district: str
    area_code: str
    phone_area: str
    plate_prefix: str
    subdistricts: tuple[str, ...]


REGIONS = tuple(
    Region(province, "" if city == "-" else city, district, area, phone, plate, tuple(subs))
    for province, city, district, area, phone, plate, *subs in rows(_REGION_TABLE)
)

_ROADS = words(
    """
    中山路 人民路 解放路 建设路 和平路 长江路 黄河路 文化路 科技路 新华路 胜利路 学府路
    滨江路 光明路 幸福路 青年路 东风路 朝阳路 花园路 迎宾路 建国路 南京路 延安路 人民大道
    """
)
_COMPOUNDS = words(
    """
    阳光花园 锦绣华庭 翠湖苑 金色家园 万科城 碧水湾 绿地新都会 保利花园 华润城 世纪新城
    江南名苑 书香门第 紫荆园 恒大名都 龙湖春江郦城 中海国际社区 星河湾 丽景苑 融创壹号院
    香樟园 滨江花园 幸福里
    """
)

#: Common surnames, most frequent first, with their pinyin (used for e-mail addresses).
SURNAMES = pairs(
    """
    王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu
    孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng 梁:liang 谢:xie
    宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng 曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian
    董:dong 袁:yuan 潘:pan 于:yu 蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye 程:cheng 苏:su 魏:wei
    吕:lv 丁:ding 任:ren 沈:shen 姚:yao 卢:lu 姜:jiang 崔:cui 钟:zhong 谭:tan 陆:lu
    汪:wang 范:fan 金:jin 石:shi 廖:liao 贾:jia 夏:xia 韦:wei 付:fu 方:fang 白:bai
    邹:zou 孟:meng 熊:xiong 秦:qin 邱:qiu 江:jiang 尹:yin 薛:xue 闫:yan 段:duan 雷:lei
    侯:hou 龙:long 史:shi 陶:tao 黎:li 贺:he 顾:gu 毛:mao 郝:hao 龚:gong 邵:shao 欧阳:ouyang
    """
)
_MALE = pairs(
    """
    伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 斌:bin 超:chao 明:ming 刚:gang
    平:ping 辉:hui 鹏:peng 华:hua 飞:fei 鑫:xin 波:bo 宇:yu 浩:hao 凯:kai 健:jian 俊:jun
    帆:fan 旭:xu 宁:ning 龙:long 林:lin 阳:yang 建:jian 国:guo 志:zhi 文:wen 博:bo 子:zi
    轩:xuan 然:ran 晨:chen 泽:ze 睿:rui 铭:ming 诚:cheng 峰:feng 毅:yi 坤:kun 亮:liang
    海:hai 东:dong 嘉:jia 豪:hao 天:tian 成:cheng 宏:hong 振:zhen 德:de 昊:hao
    """
)
_FEMALE = pairs(
    """
    芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 秀:xiu 英:ying 燕:yan
    玲:ling 丹:dan 萍:ping 红:hong 婷:ting 雪:xue 琳:lin 晶:jing 慧:hui 颖:ying 倩:qian
    欣:xin 怡:yi 佳:jia 梦:meng 璐:lu 悦:yue 琪:qi 雯:wen 瑶:yao 思:si 雨:yu 诗:shi
    涵:han 萱:xuan 月:yue 楠:nan 洁:jie 蕾:lei 薇:wei 妍:yan 彤:tong 青:qing 莉:li
    曼:man 春:chun 梅:mei 晓:xiao 文:wen 嘉:jia 若:ruo 可:ke 心:xin
    """
)

_MAIL_DOMAINS = words("qq.com 163.com 126.com sina.com foxmail.com outlook.com 139.com gmail.com")
_TAGS = (["vip"], ["新客户"], ["高风险"], ["vip", "高风险"], ["老客户"], ["企业客户"])
_TAG_WEIGHTS = (10, 9, 5, 1, 6, 3)


@dataclass(frozen=True, slots=True)
class Customer:
    """One person who contacts customer service, with the personal data they may reveal."""

    id: str
    name: str
    male: bool
    birth: date
    id_card: str
    mobile: str
    email: str
    address: str
    region: int
    landline: str
    bank_card: str
    plate: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Agent:
    """A customer-service agent: stable id such as ``a0123`` and a department."""

    id: str
    name: str
    department: str


def make_name(rng: Random, male: bool) -> tuple[str, str]:
    """A full name and its pinyin, e.g. ``("张伟", "zhangwei")``."""
    # Skewed to the front of the list: 王, 李, 张 are far commoner than 邵 or 欧阳.
    surname, surname_py = SURNAMES[int(rng.random() ** 1.7 * len(SURNAMES))]
    pool = _MALE if male else _FEMALE
    first, first_py = rng.choice(pool)
    if rng.random() < 0.3:
        return surname + first, surname_py + first_py
    second, second_py = rng.choice(pool)
    return surname + first + second, surname_py + first_py + second_py


def make_email(rng: Random, pinyin: str, birth: date) -> str:
    """An e-mail address such as zhangwei1988@163.com or a QQ number mailbox."""
    roll = rng.random()
    if roll < 0.25:
        return f"{rng.randrange(10_000_000, 3_000_000_000)}@qq.com"
    if roll < 0.55:
        local = f"{pinyin}{birth.year}"
    elif roll < 0.8:
        local = f"{pinyin}{rng.choice(('', '_', '.'))}{rng.randrange(1, 1000)}"
    else:
        local = f"{pinyin}{birth:%m%d}"
    return f"{local}@{rng.choice(_MAIL_DOMAINS)}"


def make_address(rng: Random, region: int) -> str:
    """A street address: province, city, district, sub-district, road and number, flat."""
    place = REGIONS[region]
    head = f"{place.province}{place.city}{place.district}{rng.choice(place.subdistricts)}"
    street = f"{rng.choice(_ROADS)}{rng.randrange(1, 999)}号"
    if rng.random() < 0.25:
        return f"{head}{street}{rng.randrange(2, 30)}楼{rng.randrange(1, 30):02d}室"
    building = f"{rng.choice(_COMPOUNDS)}{rng.randrange(1, 25)}栋{rng.randrange(1, 5)}单元"
    return f"{head}{street}{building}{rng.randrange(1, 33)}{rng.randrange(1, 5):02d}室"


def make_customer(seed: int, index: int) -> Customer:
    """Customer ``index`` of the data set drawn with ``seed``; the same inputs, the same person."""
    rng = Random(seed * 1_000_003 + index * 7_919 + 17)
    male = rng.random() < 0.5
    name, pinyin = make_name(rng, male)
    birth = pii.random_birth_date(rng)
    region = rng.randrange(len(REGIONS))
    home = rng.randrange(len(REGIONS)) if rng.random() < 0.35 else region
    plate_prefix = REGIONS[region].plate_prefix
    if len(plate_prefix) == 1:  # municipalities: 京A-京Q, 沪A-沪N, ...
        plate_prefix += rng.choice("ABCEFGHJKLMNPQ")
    tags: tuple[str, ...] = ()
    if rng.random() < 0.34:
        tags = tuple(rng.choices(_TAGS, weights=_TAG_WEIGHTS)[0])
    return Customer(
        id=f"u{(index * 7_919 + 1_234_567) % 10_000_000:07d}",
        name=name,
        male=male,
        birth=birth,
        id_card=pii.make_id_card(rng, REGIONS[home].area_code, birth, male),
        mobile=pii.make_mobile(rng),
        email=make_email(rng, pinyin, birth),
        address=make_address(rng, region),
        region=region,
        landline=pii.make_landline(rng, REGIONS[region].phone_area),
        bank_card=pii.make_bank_card(rng),
        plate=pii.make_plate(rng, plate_prefix),
        tags=tags,
    )


def make_agents(
    rng: Random, departments: tuple[str, ...], per_department: int
) -> dict[str, tuple[Agent, ...]]:
    """Agents for each department, with distinct four-digit ids and distinct names."""
    count = len(departments) * per_department
    numbers = rng.sample(range(1, 1000), count)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = make_name(rng, rng.random() < 0.4)[0]
        if name not in seen:
            seen.add(name)
            names.append(name)
    agents: dict[str, tuple[Agent, ...]] = {}
    for d, department in enumerate(departments):
        span = range(d * per_department, (d + 1) * per_department)
        agents[department] = tuple(
            Agent(id=f"a{numbers[i]:04d}", name=names[i], department=department) for i in span
        )
    return agents
