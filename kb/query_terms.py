"""What a question implies beyond its literal words, for the lexical retrievers and the priors.

- Colloquial Chinese → the documents' official wording (借钱 → 融资/贷款, 打官司 → 诉讼/案件):
  entrepreneurs do not write like regulations, and BM25 only matches words that occur.
- English → Chinese terms, so an English question still has lexical evidence against
  Chinese clauses (the multilingual embedding handles the rest).
- Jurisdiction cues (青岛/本市, 山东/省里, 国家/全国): a question about what "the province"
  does prefers the provincial regulation over the city plan.
"""
from __future__ import annotations

import re

# colloquial or English cue (regex) → official terms appended to the lexical query
_COLLOQUIAL = {
    r"借钱|借款|贷点款|贷不到|贷款难|融不到资": "融资 贷款 信贷",
    r"开(个|家)?(小)?(公司|店|厂)|办(个)?执照|注册(个)?公司|办营业执照": "企业开办 设立 登记 营业执照",
    r"打官司|官司|起诉|告(他|它|对方)": "诉讼 案件 审判",
    r"交税|纳税|税负|少交税": "税收 税费",
    r"欠(我|我们)?(的)?(钱|款|货款)|不给钱|赖账|拖着不(付|给)|压款|结不了账": "拖欠 逾期 款项 支付",
    r"罚款|被罚|罚钱": "行政处罚 处罚",
    r"招人|招工|用人难|缺人": "用工 人才",
    r"没钱|缺钱|资金紧张|周转": "资金 融资",
    r"补贴|补助|给钱|奖励多少": "补助 奖励 资金 扶持",
    r"网上办|线上办|不用跑": "网上 在线 电子化",
    r"投诉|反映问题|找谁说理": "投诉 诉求",
    r"自动(审)?批|秒批|机器(审)?批": "智能审批 审批",
    r"短板|不足|弱项|差距|难处|毛病": "矛盾 问题 短板",
}
_ENGLISH = {
    r"start(ing)? a (new )?business|set(ting)? up a (company|business)|regist(er|ering|ration of) a (company|business)": "企业开办 开办 设立 登记",
    r"business licen[cs]e": "营业执照", r"licen[cs]e|permit": "许可 证照", r"approval": "审批",
    r"loans?\b|lend(ing)?|borrow": "贷款 信贷", r"financ(e|ing)": "融资", r"credit": "信用 信贷",
    r"guarantee": "担保", r"collateral|pledge": "抵押 质押", r"interest": "利息 利率",
    r"late payment|overdue|arrears|pay(ment)? (late|delay)": "逾期 拖欠 支付", r"pay(ment|ing)?\b": "支付 款项",
    r"procurement|purchas": "采购 政府采购", r"tender|bidding": "招标投标",
    r"\bsmes?\b|small and medium": "中小企业", r"micro|small business": "小微企业",
    r"private (enterprise|compan|business|firm)": "民营企业", r"private (economy|sector)": "民营经济",
    r"\btax": "税收", r"subsid|grant": "补助 资金", r"\bfunds?\b": "基金 资金",
    r"intellectual property|patent": "知识产权 专利", r"innovat": "创新", r"talent": "人才",
    r"\bland\b": "用地 土地", r"export": "出口", r"import": "进口", r"trade": "贸易",
    r"e-?commerce": "电商 跨境电商", r"negative list": "负面清单", r"market access": "市场准入",
    r"incubat": "孵化器", r"digital": "数字化", r"industrial internet": "工业互联网",
    r"bankrupt": "破产", r"court|lawsuit|litigation": "诉讼 案件 审判", r"penalt|\bfine": "处罚",
    r"inspect": "检查", r"entrepreneur": "企业家", r"association|chamber of commerce": "行业协会 商会",
    r"come into (force|effect)|take effect|effective": "施行", r"target|goal": "目标",
    r"district": "区", r"complain": "投诉", r"data": "数据", r"brand": "品牌", r"base station": "基站",
    r"high-?tech": "高新技术", r"evaluat|assess": "评估", r"monitor|supervis|oversight": "监测 监督",
    r"insur": "保险", r"\bbanks?\b": "银行", r"government": "政府", r"overseas|abroad": "海外 境外",
    r"manufactur": "制造业", r"service": "服务", r"platform": "平台", r"training": "培训",
    r"employment|\bjobs?\b": "就业", r"investment|invest": "投资", r"enterprises?|compan(y|ies)|firms?": "企业",
    r"one-stop|single window": "一网通办 一窗", r"country|countries": "国家 国际",
}
JURISDICTIONS = {
    "qingdao": r"青岛|本市|我市|市里|全市|市级|qingdao",
    "shandong": r"山东|省里|本省|全省|省级|shandong|provinc",
    "national": r"国家|全国|国务院|中央|national|state council|\bprc\b",
}


def implied_terms(query: str) -> str:
    """The official Chinese terms the query's colloquial or English words imply ("" if none)."""
    extra = [terms for cue, terms in _COLLOQUIAL.items() if re.search(cue, query)]
    low = query.lower()
    extra += [terms for cue, terms in _ENGLISH.items() if re.search(cue, low)]
    return " ".join(extra)


def expand_for_lexical(query: str) -> str:
    """The query plus the official Chinese terms its colloquial or English words imply."""
    extra = implied_terms(query)
    return f"{query} {extra}" if extra else query


# 「规划是依据什么编制的」「这部法的立法目的是什么」: the question is about the document itself,
# which its opening answers (the plan's 前言, a law's 第一条 「为了……制定本法」).
_DOC = r"(规划|条例|法|文件)"
_ABOUT_DOCUMENT = re.compile(
    r"(编制|制定|出台|立法|颁布)[^，。？?]{0,8}(依据|目的|宗旨|背景|意义|初衷|原因)|"
    r"(依据|根据|照着|按照|依照)(哪些|什么|啥)[^，。？?]{0,8}(编制|制定|出台|编出|定出|写出)|"
    rf"为(什么|啥|何)要?(专门)?(编制|制定|出台|出|搞|定|编|写)了?一?[个部份项]?[^，。？?]{{0,16}}{_DOC}|"
    rf"(干什么|做什么|干啥)用|{_DOC}的?(定位|作用|意义)是|purpose of (the|this)|why was (the|this)")


def asks_about_document(query: str) -> bool:
    return bool(_ABOUT_DOCUMENT.search(query.lower()))


def query_jurisdictions(query: str) -> set[str]:
    low = query.lower()
    return {name for name, cue in JURISDICTIONS.items() if re.search(cue, low)}


def document_jurisdiction(title: str, issuer: str | None) -> str:
    text = f"{title} {issuer or ''}"
    if "青岛" in text:
        return "qingdao"
    if "山东" in text:
        return "shandong"
    return "national"
