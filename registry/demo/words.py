"""Word lists and reference data the demo generator draws plausible enterprises from:
Jiangxi's cities with their counties and phone codes, a few other provinces, trade
names, legal forms, people's names, roads and mail hosts."""

from __future__ import annotations

from itertools import accumulate

# code, 中文 short name, English, phone area code, weight, counties (code, 中文).
JIANGXI = (
    ("360100", "南昌", "Nanchang", "0791", 22, (
        ("360102", "东湖区"), ("360103", "西湖区"), ("360104", "青云谱区"),
        ("360111", "青山湖区"), ("360112", "新建区"), ("360113", "红谷滩区"),
        ("360121", "南昌县"), ("360123", "安义县"), ("360124", "进贤县"),
    )),
    ("360200", "景德镇", "Jingdezhen", "0798", 4, (
        ("360202", "昌江区"), ("360203", "珠山区"), ("360222", "浮梁县"), ("360281", "乐平市"),
    )),
    ("360300", "萍乡", "Pingxiang", "0799", 5, (
        ("360302", "安源区"), ("360313", "湘东区"), ("360321", "莲花县"),
        ("360322", "上栗县"), ("360323", "芦溪县"),
    )),
    ("360400", "九江", "Jiujiang", "0792", 11, (
        ("360402", "濂溪区"), ("360403", "浔阳区"), ("360404", "柴桑区"), ("360423", "武宁县"),
        ("360424", "修水县"), ("360425", "永修县"), ("360426", "德安县"), ("360428", "都昌县"),
        ("360429", "湖口县"), ("360430", "彭泽县"), ("360481", "瑞昌市"), ("360482", "共青城市"),
        ("360483", "庐山市"),
    )),
    ("360500", "新余", "Xinyu", "0790", 4, (("360502", "渝水区"), ("360521", "分宜县"))),
    ("360600", "鹰潭", "Yingtan", "0701", 4, (
        ("360602", "月湖区"), ("360603", "余江区"), ("360681", "贵溪市"),
    )),
    ("360700", "赣州", "Ganzhou", "0797", 16, (
        ("360702", "章贡区"), ("360703", "南康区"), ("360704", "赣县区"), ("360722", "信丰县"),
        ("360723", "大余县"), ("360724", "上犹县"), ("360725", "崇义县"), ("360726", "安远县"),
        ("360728", "定南县"), ("360729", "全南县"), ("360730", "宁都县"), ("360731", "于都县"),
        ("360732", "兴国县"), ("360733", "会昌县"), ("360734", "寻乌县"), ("360735", "石城县"),
        ("360781", "瑞金市"), ("360783", "龙南市"),
    )),
    ("360800", "吉安", "Ji'an", "0796", 8, (
        ("360802", "吉州区"), ("360803", "青原区"), ("360821", "吉安县"), ("360822", "吉水县"),
        ("360823", "峡江县"), ("360824", "新干县"), ("360825", "永丰县"), ("360826", "泰和县"),
        ("360827", "遂川县"), ("360828", "万安县"), ("360829", "安福县"), ("360830", "永新县"),
        ("360881", "井冈山市"),
    )),
    ("360900", "宜春", "Yichun", "0795", 10, (
        ("360902", "袁州区"), ("360921", "奉新县"), ("360922", "万载县"), ("360923", "上高县"),
        ("360924", "宜丰县"), ("360925", "靖安县"), ("360926", "铜鼓县"), ("360981", "丰城市"),
        ("360982", "樟树市"), ("360983", "高安市"),
    )),
    ("361000", "抚州", "Fuzhou", "0794", 6, (
        ("361002", "临川区"), ("361003", "东乡区"), ("361021", "南城县"), ("361022", "黎川县"),
        ("361023", "南丰县"), ("361024", "崇仁县"), ("361025", "乐安县"), ("361026", "宜黄县"),
        ("361027", "金溪县"), ("361028", "资溪县"), ("361030", "广昌县"),
    )),
    ("361100", "上饶", "Shangrao", "0793", 10, (
        ("361102", "信州区"), ("361103", "广丰区"), ("361104", "广信区"), ("361123", "玉山县"),
        ("361124", "铅山县"), ("361125", "横峰县"), ("361126", "弋阳县"), ("361127", "余干县"),
        ("361128", "鄱阳县"), ("361129", "万年县"), ("361130", "婺源县"), ("361181", "德兴市"),
    )),
)  # fmt: skip

# Other provinces (5 %): area code, city, district, English, phone area code.
ELSEWHERE = (
    ("110105", "北京市", "朝阳区", "Beijing", "010"),
    ("310115", "上海市", "浦东新区", "Shanghai", "021"),
    ("440305", "深圳市", "南山区", "Shenzhen", "0755"),
    ("440106", "广州市", "天河区", "Guangzhou", "020"),
    ("330106", "杭州市", "西湖区", "Hangzhou", "0571"),
    ("320106", "南京市", "鼓楼区", "Nanjing", "025"),
    ("430104", "长沙市", "岳麓区", "Changsha", "0731"),
    ("420106", "武汉市", "武昌区", "Wuhan", "027"),
    ("350203", "厦门市", "思明区", "Xiamen", "0592"),
    ("350102", "福州市", "鼓楼区", "Fuzhou", "0591"),
    ("510107", "成都市", "武侯区", "Chengdu", "028"),
    ("340104", "合肥市", "蜀山区", "Hefei", "0551"),
)
ELSEWHERE_SHARE = 0.05

# 字号 characters and their pinyin (for English names and email domains).
ZIHAO = (
    "华Hua 鑫Xin 恒Heng 瑞Rui 德De 泰Tai 宏Hong 昌Chang 盛Sheng 源Yuan 达Da 新Xin 科Ke 力Li "
    "通Tong 远Yuan 博Bo 创Chuang 金Jin 赣Gan 洪Hong 晶Jing 联Lian 信Xin 合He 正Zheng 天Tian "
    "中Zhong 海Hai 智Zhi 光Guang 明Ming 腾Teng 飞Fei 龙Long 宇Yu 航Hang 振Zhen 兴Xing 嘉Jia "
    "荣Rong 诚Cheng 安An 康Kang 润Run 丰Feng 广Guang 云Yun 峰Feng 江Jiang 锦Jin 晟Sheng 亿Yi "
    "万Wan 汇Hui 凯Kai 卓Zhuo 越Yue 欣Xin 乐Le 佳Jia 美Mei 永Yong 立Li 方Fang 伟Wei 长Chang "
    "青Qing 蓝Lan 鸿Hong 骏Jun 翔Xiang 弘Hong 泽Ze 铭Ming 睿Rui 启Qi 星Xing 辰Chen 宝Bao 富Fu "
    "豪Hao 晨Chen 阳Yang 东Dong 南Nan 北Bei 九Jiu 百Bai 千Qian 庐Lu 井Jing 赛Sai 维Wei 英Ying "
    "杰Jie 奥Ao 普Pu 亚Ya 欧Ou 捷Jie 迅Xun 驰Chi 耀Yao 舜Shun 禾He 沃Wo 拓Tuo"
).split()

# Per industry: (行业词, English) pairs and main products. None = other industries.
INDUSTRY_WORDS: dict[str | None, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "aviation": (
        (("航空科技", "Aviation Technology"), ("航空装备", "Aviation Equipment"),
         ("通用航空", "General Aviation"), ("航空制造", "Aerospace Manufacturing")),
        ("通用飞机零部件", "航空锻件", "无人机", "航空复合材料构件", "机载设备", "航空发动机叶片"),
    ),
    "electronic_info": (
        (("电子", "Electronics"), ("电子科技", "Electronic Technology"),
         ("光电", "Optoelectronics"), ("半导体", "Semiconductor"),
         ("信息技术", "Information Technology")),
        ("印制电路板", "电子元器件", "LED芯片", "智能终端", "摄像模组", "光纤光缆"),
    ),
    "equipment": (
        (("机械", "Machinery"), ("装备制造", "Equipment Manufacturing"),
         ("重工", "Heavy Industry"), ("机电", "Electromechanical")),
        ("数控机床", "工程机械", "输变电设备", "矿山机械", "汽车零部件", "泵阀"),
    ),
    "tcm": (
        (("中药", "Chinese Medicine"), ("药业", "Pharmaceutical"),
         ("中医药科技", "TCM Technology"), ("本草", "Herbal")),
        ("中药饮片", "中成药", "中药配方颗粒", "中药提取物", "道地药材"),
    ),
    "new_energy": (
        (("新能源", "New Energy"), ("锂业", "Lithium"), ("光伏科技", "Photovoltaic Technology"),
         ("储能科技", "Energy Storage Technology")),
        ("锂电池", "光伏组件", "碳酸锂", "储能系统", "电池正极材料", "风电设备"),
    ),
    "new_materials": (
        (("新材料", "New Materials"), ("材料科技", "Materials Technology"),
         ("稀土", "Rare Earth"), ("铜业", "Copper")),
        ("铜箔", "稀土永磁材料", "有机硅", "高性能纤维", "钨钼制品", "特种陶瓷"),
    ),
    "new_digital": (
        (("数字科技", "Digital Technology"), ("网络科技", "Network Technology"),
         ("软件", "Software"), ("大数据", "Big Data")),
        ("工业软件", "云计算服务", "数据中心服务", "物联网平台", "VR内容"),
    ),
    "smart_equipment": (
        (("智能装备", "Intelligent Equipment"), ("智能科技", "Intelligent Technology"),
         ("机器人", "Robotics"), ("自动化", "Automation")),
        ("工业机器人", "智能仓储设备", "自动化生产线", "智能检测设备", "数控系统"),
    ),
    "biomedicine": (
        (("生物医药", "Biomedicine"), ("生物科技", "Biotechnology"),
         ("制药", "Pharmaceutical"), ("医疗器械", "Medical Devices")),
        ("化学原料药", "生物制剂", "医疗器械", "诊断试剂", "医用敷料"),
    ),
    "energy_saving_env": (
        (("环保科技", "Environmental Technology"), ("节能科技", "Energy Saving Technology"),
         ("环境工程", "Environmental Engineering"), ("水务", "Water")),
        ("污水处理设备", "固废处理", "节能锅炉", "环境监测仪器", "脱硫脱硝设备"),
    ),
    "hydrogen": (
        (("氢能科技", "Hydrogen Technology"), ("氢能源", "Hydrogen Energy"),
         ("燃料电池", "Fuel Cell")),
        ("氢燃料电池", "电解槽", "储氢瓶", "加氢设备"),
    ),
    "life_health": (
        (("健康科技", "Health Technology"), ("医疗科技", "Medical Technology"),
         ("康养", "Wellness")),
        ("康复器械", "健康食品", "养老服务", "体外诊断设备"),
    ),
    "flexible_electronics": (
        (("柔性电子", "Flexible Electronics"), ("显示科技", "Display Technology"),
         ("柔性材料", "Flexible Materials")),
        ("柔性显示屏", "柔性电路板", "柔性传感器"),
    ),
    "micro_nano_optics": (
        (("光学", "Optics"), ("精密光学", "Precision Optics"),
         ("微纳科技", "Micro-Nano Technology")),
        ("光学镜头", "光学元件", "微纳光学器件", "激光器"),
    ),
    "quantum": (
        (("量子科技", "Quantum Technology"), ("量子信息", "Quantum Information")),
        ("量子通信设备", "量子传感器", "量子计算软件"),
    ),
    None: (
        (("商贸", "Trading"), ("建材", "Building Materials"), ("食品", "Food"),
         ("纺织", "Textile"), ("服饰", "Apparel"), ("农业科技", "Agricultural Technology"),
         ("物流", "Logistics"), ("建筑工程", "Construction Engineering"), ("化工", "Chemical"),
         ("家具", "Furniture"), ("陶瓷", "Ceramics"), ("茶业", "Tea")),
        ("建筑材料", "日用品", "农产品", "服装", "食品", "茶叶", "家具", "陶瓷制品", "化工原料",
         "物流服务"),
    ),
}  # fmt: skip
OTHER_INDUSTRY_SHARE = 0.20

# 组织形式: (中文, English, weight for ordinary firms). Large firms use the last two.
LEGAL_FORMS = (
    ("有限公司", "Co., Ltd.", 70),
    ("有限责任公司", "Co., Ltd.", 15),
    ("股份有限公司", "Co., Ltd.", 12),
    ("集团有限公司", "Group Co., Ltd.", 3),
)

FORM_WEIGHTS = list(accumulate(f[2] for f in LEGAL_FORMS))

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍建国志红文辉斌鹏宇浩凯健俊峰波琳晶雪"
    "丹婷颖倩欣怡晨阳海林春燕荣新民永忠德胜金龙飞亮成"
)
ROADS = (
    "人民路 解放路 中山路 建设路 工业大道 高新大道 科技大道 创新路 迎宾大道 滨江路 长征路 胜利路 "
    "八一大道 井冈山大道 学府路 红旗大道 东风路 站前路 光明路 青年路 开发区二路 产业园一路 "
    "金融大街 民营科技园路"
).split()
MAIL_USERS = ("info", "hr", "office", "sales", "service", "admin", "contact", "cw", "xz")
MAIL_HOSTS = ("163.com", "126.com", "qq.com", "sina.com", "foxmail.com")
MAIL_TLDS = (".com", ".com.cn", ".cn")
