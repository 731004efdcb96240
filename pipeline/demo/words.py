"""Word lists for the made-up register: names, places, makes, parts and notes.

Kept apart from the generator so its logic stays readable.  Everything here is
plain data a real Chinese auto-parts shop would have in its register.
"""
from __future__ import annotations

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
                 "于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏韦付方邹熊白孟秦邱侯江尹薛段雷黎")
GIVEN_NAMES = tuple(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 志强 海燕 文 华 红 "
    "建国 国强 永红 春梅 小红 德明 福生 龙 斌 辉 鹏 飞 鑫 浩 宇 俊 健 亮 波 峰 晨 晓东 伟民 家豪 振华 "
    "立新 少华 志明 国华 金龙 海峰 小龙 宏伟 丽娟 美玲 嘉欣".split())
TITLES = ("老板", "经理", "师傅", "先生", "女士", "总", "姐", "哥")

# Shop-name words (字号) with a pinyin used for e-mail addresses and WeChat ids.
BRANDS = tuple(w.split(":") for w in (
    "顺达:shunda 鑫源:xinyuan 宏发:hongfa 永安:yongan 鹏程:pengcheng 华通:huatong 骏马:junma "
    "金盾:jindun 诚信:chengxin 联众:lianzhong 恒通:hengtong 众鑫:zhongxin 安途:antu 捷达:jieda "
    "通利:tongli 广源:guangyuan 明辉:minghui 利民:limin 兴旺:xingwang 东升:dongsheng 天成:tiancheng "
    "正和:zhenghe 协力:xieli 德顺:deshun 嘉诚:jiacheng 富强:fuqiang 佳美:jiamei 车之家:chezhijia "
    "路路通:lulutong 速马:suma 快捷:kuaijie 好运:haoyun 新时代:xinshidai 粤通:yuetong 南方:nanfang "
    "长隆:changlong 金狮:jinshi 大成:dacheng 福源:fuyuan 安达:anda").split())

# (customer kind, share of customers, typical order amount in yuan, payment terms in days,
#  name endings).  个人 customers are named after the person.
KINDS = (
    ("修理厂", 0.33, 1500, 30, ("汽修厂", "汽车维修厂", "汽车修配厂", "汽车服务中心")),
    ("车队", 0.11, 4000, 60, ("物流车队", "运输车队", "出租车队", "货运公司")),
    ("经销商", 0.11, 8000, 60, ("汽配行", "汽配商行", "汽车配件经营部", "配件贸易公司")),
    ("个人", 0.14, 600, 0, ("",)),
    ("4S店", 0.07, 5000, 30, ("4S店",)),
    ("洗车美容店", 0.12, 800, 0, ("洗车行", "汽车美容店", "车饰美容中心")),
    ("快修店", 0.08, 1200, 0, ("快修店", "汽车快修", "轮胎快修店")),
    ("二手车商", 0.04, 2000, 0, ("二手车行", "车行")),
)
KIND_FLEET, KIND_PERSON, KIND_4S = 1, 3, 4
MAKERS_4S = ("广汽丰田", "广汽本田", "东风日产", "一汽大众", "上汽大众", "比亚迪", "吉利")

# (region as staff write it, short form used in shop names, telephone area code)
REGIONS = (
    ("深圳南山", "南山", "0755"), ("深圳宝安", "宝安", "0755"), ("深圳龙岗", "龙岗", "0755"),
    ("深圳福田", "福田", "0755"), ("深圳龙华", "龙华", "0755"), ("东莞", "东莞", "0769"),
    ("广州白云", "白云", "020"), ("广州番禺", "番禺", "020"), ("广州天河", "天河", "020"),
    ("佛山", "佛山", "0757"), ("惠州", "惠州", "0752"), ("中山", "中山", "0760"), ("珠海", "珠海", "0756"),
)
CAR_MAKES = tuple("大众 丰田 本田 日产 比亚迪 吉利 长安 别克 宝马 奔驰 奥迪 现代 五菱 哈弗 特斯拉".split())
TRUCK_MAKES = tuple("重卡 解放 东风 福田 陕汽 江淮".split())
PARTS = tuple("刹车片 机油滤芯 空气滤芯 火花塞 雨刮 轮胎 蓄电池 正时皮带 减震器 大灯总成 机油 "
              "变速箱油 冷却液 离合器片 轴承 水泵 空调滤芯 刹车盘".split())

CUSTOMER_NOTES = ("老客户，月结", "只要原厂件", "价格敏感，常比价", "周末不收货", "需开增值税专票",
                  "朋友介绍的", "送货到后门仓库", "付款慢，注意账期", "副厂件用得多", "老板爱喝茶，拜访带点茶叶")

# (method, share of follow-ups, notes).  {part}, {make} and {n} are filled in.
FOLLOW_UP_NOTES = (
    ("电话", 0.45, (
        "电话询问{part}库存，客户说下周要一批", "打电话报了{make}{part}的价格，客户说再比比",
        "电话回访，上次的{part}装车没问题", "客户来电问{make}{part}有没有现货，已报价",
        "电话没人接，晚点再打", "电话催款，客户说月底前付清",
        "客户说最近{make}车进厂少，{part}先不要了", "电话确认送货时间，明天上午送到",
        "客户抱怨{part}到货慢，已道歉并承诺加急", "打电话推荐新到的{make}原厂{part}，客户有兴趣")),
    ("微信", 0.30, (
        "微信发了{part}报价单，客户说考虑一下", "微信发了本月促销，{part}买十送一",
        "客户微信下单{part}{n}套", "微信问客户{part}还够不够用，回复还有库存",
        "微信发了对账单，客户已确认", "客户微信发来{make}车型号，要配{part}")),
    ("拜访", 0.15, (
        "上门拜访，老板不在，留了价目表", "拜访客户，看了仓库，{part}快用完了",
        "上门送{part}样品，客户说用了再说", "拜访时客户说隔壁店{part}便宜一成",
        "去店里拜访，聊了{make}车保养的配件需求", "拜访老板，谈下季度的{part}供货")),
    ("短信", 0.05, ("发短信提醒{part}促销", "发节日问候短信", "电话不通，发短信留言")),
    ("邮件", 0.05, ("邮件发了{make}{part}产品目录", "邮件发送报价单和对账单")),
)
# Notes of a contact where the customer rated the shop 1 or 2.
COMPLAINT_NOTES = ("客户投诉上批{part}质量问题，要求退货，很不满意", "客户说{part}发错型号，耽误修车，很生气",
                   "送货晚了两天，客户不满意", "客户嫌{part}涨价，说要换供应商")

# Reps with the pinyin of their name for e-mail addresses; the first four are the demo's.
REP_POOL = tuple(w.split(":") for w in (
    "王强:wangqiang 李娜:lina 张伟:zhangwei 刘洋:liuyang 杨帆:yangfan 黄磊:huanglei 周敏:zhoumin "
    "吴斌:wubin 徐静:xujing 孙浩:sunhao 马丽:mali 朱军:zhujun 胡杰:hujie 郭鹏:guopeng 何芳:hefang "
    "高飞:gaofei 林涛:lintao 罗晨:luochen 郑宇:zhengyu 梁辉:lianghui 谢婷:xieting 宋亮:songliang "
    "唐敏:tangmin 许峰:xufeng").split())
MANAGER = ("陈总", "chenzong")
FORMER_REP = ("赵磊", "zhaolei")
MAIL_DOMAIN = "example.com"

LUNAR_MONTHS = ("正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
LUNAR_DAYS = tuple(("初" + d for d in "一二三四五六七八九十")) + tuple(
    "十一 十二 十三 十四 十五 十六 十七 十八 十九 二十 廿一 廿二 廿三 廿四 廿五 廿六 廿七 廿八 廿九 三十".split())
