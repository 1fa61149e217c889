"""How text becomes index terms: jieba segmentation, the trade's abbreviations, and pinyin syllables."""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading

from marketplace.search.vocabulary import TRADE_TERMS

# Valid pinyin syllables (toneless, ü as v), for splitting pinyin typed in Latin letters.
_SYLLABLE_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce
    cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
    ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dian diao die ding diu dong dou du duan
    dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng
    gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan
    huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken
    keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie
    lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min
    ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu
    nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian
    qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run
    ruo sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan
    shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting
    tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong
    xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei
    zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo
    zi zong zou zu zuan zui zun zuo"""
SYLLABLES = frozenset(_SYLLABLE_TEXT.split())

HAN = re.compile(r"[\u4e00-\u9fff]+")

# --- segmentation -----------------------------------------------------------------------------------------

# jieba.analyse.ChineseAnalyzer is rebuilt here from jieba.analyse.analyzer's parts (copied below; a test compares
# the two) rather than imported: importing the jieba.analyse package loads its keyword extractors' tables (TF-IDF's
# IDF list, jieba.posseg's word tags), ~1 s of CPU in every process that searches or indexes, used by neither.
# fmt: off
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in", "is", "it", "may",
    "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we", "when", "will", "with", "yet", "you",
    "your", "的", "了", "和",
))
# fmt: on
ACCEPTED_CHARS = re.compile(r"[\u4E00-\u9FD5]+")

_init_lock = threading.Lock()
_analysis: dict[str, object] = {}


def analyzer():
    """The Chinese analyzer (jieba, search mode), initialised once per process (~1–3 s the first time)."""
    if "analyzer" not in _analysis:
        with _init_lock:
            if "analyzer" not in _analysis:
                import jieba
                from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter
                from whoosh.lang.porter import stem

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for word in TRADE_TERMS:
                    jieba.add_word(word)
                # jieba.analyse.ChineseAnalyzer's chain, with its tokenizer cached (the same tokens, each block
                # segmented once)
                _analysis["analyzer"] = (
                    _cached_tokenizer()
                    | LowercaseFilter()
                    | StopFilter(stoplist=STOP_WORDS, minsize=1)
                    | StemFilter(stemfn=stem, ignore=None, cachesize=50000)
                )
    return _analysis["analyzer"]


@functools.lru_cache(maxsize=200_000)
def _segmented(block: str) -> tuple[tuple[str, int, int], ...]:
    import jieba

    return tuple(
        (w, s, e) for w, s, e in jieba.tokenize(block, mode="search") if ACCEPTED_CHARS.match(w) or len(w) > 1
    )


class CachedChineseTokenizer:
    """jieba's ChineseTokenizer, with the segmentation of each block of text (what jieba cuts on its own: a
    run of characters between punctuation and spaces) remembered. jieba cuts every block independently, so
    the tokens are exactly jieba's; but a rebuild meets the same blocks again and again (category and item
    names, places, company-name endings), and segmenting them was most of its time. (Module level: Whoosh
    pickles the analyzer with the schema.)"""

    is_morph = False

    def __or__(self, other):
        from whoosh.analysis import CompositeAnalyzer

        return CompositeAnalyzer(self, other)

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    def set_options(self, kwargs):
        pass

    def has_morph(self):
        return False

    def __call__(self, text, **kargs):
        import jieba
        from whoosh.analysis import Token

        token = Token()
        offset = 0
        for block in jieba.re_han_default.split(text):
            if block:
                for w, s, e in _segmented(block):
                    token.original = token.text = w
                    token.pos = token.startchar = offset + s
                    token.endchar = offset + e
                    yield token
                offset += len(block)


def _cached_tokenizer():
    return CachedChineseTokenizer()


def tokens(text: str) -> list[str]:
    """The index terms of a text, in order, without repeats."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=10_000)
def _tokens(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for token in analyzer()(text, mode="query"):
        seen.setdefault(token.text, None)
    return tuple(seen)


@functools.lru_cache(maxsize=50_000)
def syllables_of(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin  # ~0.4 s and ~50 MB once per process, so only when needed

    return tuple(lazy_pinyin(run))


def pinyin_of(text: str) -> list[list[str]]:
    """The toneless syllables of each run of Chinese characters."""
    return [list(syllables_of(run)) for run in HAN.findall(text)]


def pinyin_pairs(syllables: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(syllables)]


def pinyin_keys(*texts: str) -> str:
    keys: dict[str, None] = {}
    for text in texts:
        for run in pinyin_of(text or ""):
            for pair in pinyin_pairs(run):
                keys.setdefault(pair, None)
    return " ".join(keys)


def split_pinyin(word: str) -> list[str] | None:
    """`huanping` → [huan, ping] (fewest syllables); None when the letters are not pinyin."""
    word = word.lower().replace("ü", "v").replace("'", "")
    if not word.isascii() or not word.isalpha() or len(word) > 60:
        return None
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and word[start:end] in SYLLABLES:
                candidate = head + [word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1]
