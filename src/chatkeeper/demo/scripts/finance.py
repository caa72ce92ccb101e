"""Banking and consumer-finance dialogue: cards and wealth products, statements and repayments,
fraud and collection complaints, transfers and instalments, and disputes over credit records,
mis-selling and loan contracts. Format: see the package docstring."""

from __future__ import annotations

from chatkeeper.demo.scripts import script

CARD = """
A: 请提供一下您的卡号，我帮您查询|麻烦提供一下涉及的银行卡号|请问是哪张卡呢？麻烦提供完整卡号
| {mr}，请提供一下您的{card_product}卡号
C: {card}|卡号{card}|{card}，{card_product}|是这张：{card}|卡号是{card}，尾号{card_tail}
"""
TXN = """
A: 请问是哪一笔交易呢？麻烦提供一下交易时间和金额|请提供交易日期、金额和商户名称
C: {date}，{txn_amount}元，{merchant}|{date}晚上，一笔{txn_amount}元的消费
| 就是{date}那笔{txn_amount}，商户叫{merchant}
"""
SCREENSHOT = """
A: 方便的话请把短信通知或者账单截图发过来|可以提供一下相关截图吗？
C: [image]
C: 就是这条短信|截图在这|你看这个扣款记录
"""
IDENTITY = """
A: 请问是本人咨询吗？需要核实一下身份，麻烦提供身份证号|请提供借款人姓名和身份证号
C: 是本人，{id_card}|{name}，{id_card}|身份证{id_card}
"""
SNIPPETS = {"card": CARD, "txn": TXN, "screenshot": SCREENSHOT, "identity": IDENTITY}

CONSULTATION = script(
    """
## topic
? C: 想咨询一下{card_product}怎么申请|办{card_product}需要什么条件？
> A: 年满18周岁、有稳定收入即可申请，可以在APP上在线提交
  C: 办卡需要去网点吗？
  A: 不用的，审核通过后卡片会邮寄到您的地址，需要本人签收
+ A: 请问您目前的工作单位和月收入大概是多少？方便评估
  C: 在一家互联网公司上班，月收入一万左右|自己做生意的|国企，月薪八千
## topic
? C: {fund}现在的收益率是多少？|{fund}能随时赎回吗？|{fund}风险高吗
> A: {fund}是中低风险产品，近一年年化收益率{rate}，持有满期后可赎回
  | {fund}业绩比较基准{rate}，过往业绩不代表未来表现
  C: 最低起投多少？|中途能取出来吗？
  A: 1万元起投，封闭期内不能赎回哦
= A: [file:{fund}产品说明书.pdf]
  A: 产品说明书我已发到您的邮箱{email}，投资有风险，请您仔细阅读
  C: 好的收到|我看看再说
## topic
? C: 我的信用卡额度能提到{limit}吗？|怎么申请提额
> A: 您的卡目前额度为{limit}，系统评估近期暂不满足提额条件
  | 已为您提交临时提额申请，有效期{months}个月
  C: 为什么不能提？|那什么时候可以再申请
  A: 建议保持良好的用卡习惯，{months}个月后可再次申请
+ @card
## topic
? C: 消费贷年化利率多少？|贷款{loan}一年利息多少
> A: 目前消费贷年化利率{apr}起，具体以审批结果为准，最长可分{term}期
  C: 提前还款有违约金吗？
  A: 满6期后提前还款免违约金
+ @identity
## topic
? C: 信用卡年费怎么收的？|{card_product}有年费吗，能免吗
> A: {card_product}首年免年费，刷卡满6次免次年年费|年费{fee}元，可以用积分抵扣
  C: 我刷够了，怎么还扣了年费？|积分怎么抵扣？
+ @card
## topic
? C: 我的账单日是几号？还款日呢？|这个月账单怎么还没出
> A: 查到您的账单日是每月{bill_day}号，还款日为账单日后20天
  C: 能改账单日吗？
  A: 可以的，一年可修改一次，我帮您改到每月{bill_day2}号可以吗
+ @card
## topic
? C: 车主信用卡能绑ETC吗？|我想办个ETC，用信用卡扣费
> A: 可以的，{card_product}支持绑定ETC，通行费享受95折
  C: 需要什么资料？
  A: 需要车主身份证、行驶证和车牌号，设备会邮寄到您家
+ A: 请提供一下车牌号和车主姓名|麻烦告诉我车牌号码，我查一下是否已绑定其他ETC
  C: {plate}，车主{name}|车牌{plate}|{plate}，是我自己的车
## topic
? C: 外币汇款需要什么材料|境外消费有手续费吗
> A: 境外消费免货币转换费，外币汇款需要提供收款人姓名、账号和银行SWIFT代码
  C: 一年能汇多少？
  A: 个人每年便利化额度为等值5万美元
## shared
+ A: 请问您注册时留的邮箱是？我把资料发给您|资料发您邮箱可以吗？
  C: {email}|发到{email}吧
= A: 已为您提交申请，审核结果会以短信通知到您尾号{mobile_tail}的手机
  | 申请已提交，预计{days}个工作日内完成审核
= A: 以上就是相关规定，您可以在手机银行APP首页查看详细说明
""",
    **SNIPPETS,
)

AFTER_SALES = script(
    """
## topic
? C: 我的卡丢了，要挂失|银行卡找不到了，怎么挂失？
> A: 已为您办理临时挂失，卡片已冻结，请在{days}日内携带身份证到网点办理正式挂失补卡
  C: 补卡要钱吗？
  A: 补卡工本费{fee}元，部分卡种可减免
+ @card
## topic
? C: ATM机吞卡了|在{place}附近的ATM取钱，卡没吐出来
> A: 吞卡后一般会在{hours}小时内由网点取出，请您携带身份证到网点领取
  C: 哪个网点？|我明天要出差怎么办
= A: 已为您预约{later}到网点领取，请携带本人身份证
  C: 好的|几点之前去？
  A: 网点营业时间是9:00-17:00
## topic
? C: 转账转错人了能追回吗|我转了{txn_amount}元转错账户了
> A: 转错账户的款项需要联系收款人协商退回，我们可以协助联系对方开户行
  C: 对方不退怎么办？
  A: 如协商不成，您可以通过法律途径追回，我们会配合提供交易凭证
+ A: 请问转入的账户姓名和账号是多少？
  C: 对方叫{other_name}，卡号{other_card}|{other_name}，电话{other_mobile}
## topic
? C: 手机银行登录不了|一直提示密码错误，已经锁了
> A: 您的账户因密码错误次数过多已被锁定，可通过APP人脸识别解锁
  C: 人脸识别一直失败|我换手机了
  A: 那建议您携带身份证到网点柜台重置
## topic
? C: 信用卡还款了怎么还显示欠款|我{date}已经还了{txn_amount}，为什么还有账单
> A: 查询到您{date}的还款{txn_amount}元已入账，剩余{fee}元是分期手续费
  C: 什么分期？我没办过|原来是这样
+ @card
+ @screenshot
## topic
? C: 我的车过高速ETC扣了两次费|{date}走高速，ETC重复扣费{fee}元
> A: 查询到您的车辆{plate}在{date}有两笔通行费记录，我帮您提交核查
  C: 多扣的钱什么时候退？|麻烦尽快
  A: 核实为重复扣费后，{days}个工作日内退回到您尾号{card_tail}的卡上
+ A: 请提供一下车牌号码|麻烦发一下ETC绑定的车牌号
  C: {plate}|车牌号{plate}|{plate}，绑的是尾号{card_tail}的卡
## topic
? C: 卡片过期了，新卡还没收到|新卡寄到哪里了？
> A: 新卡已于{date}通过{courier}寄出，单号{tracking}
  C: 查不到物流|好的我查一下
+ A: 请确认一下新卡的邮寄地址|麻烦核对一下您的联系地址是否有变化
  C: {address}|还是{address}|搬家了，现在住{address}
## shared
+ @card
= A: 业务已为您办理完成，相关短信会发送到您尾号{mobile_tail}的手机上
= A: 已为您提交处理申请，受理编号{ticket}，{days}个工作日内会有结果
""",
    **SNIPPETS,
)

COMPLAINT = script(
    """
## topic
? C: 我的信用卡被盗刷了{txn_amount}元！|卡在我手上，怎么会有一笔{merchant}的消费
> A: 已为您冻结卡片并提交盗刷调查，请您尽快到派出所报案并保留回执
  C: 钱能追回来吗？|报案了还要我做什么
  A: 调查期间该笔款项暂不计息，结果会在{days}个工作日内告知
+ @card
+ @txn
## topic
? C: 你们催收天天打电话给我家人，太过分了|催收打电话到我单位去了
> A: 您反映的催收问题我们非常重视，已经要求催收团队立即停止联系您的家人和同事
  C: 我要你们书面道歉|再打一次我就报警
+ A: 请问催收人员是从哪个号码打来的？打给了谁？
  C: 打给了我{relation}{other_name}，号码是{other_mobile}|打到我单位座机{landline}
## topic
? C: 我从来没办过分期，为什么扣我手续费|莫名其妙多扣了{fee}元
> A: 查询到{date}有一笔分期是通过APP申请的，分{term}期，手续费{fee}元
  C: 我根本没点过|你们诱导的
  A: 我帮您申请撤销分期并退还手续费
= A: 经核实，已为您退还手续费{fee}元，预计{days}个工作日到账
  C: 这还差不多|下次别再这样了
+ @screenshot
## topic
? C: 客服电话一直打不进去|排队一个小时都没人接
? C: 网点工作人员态度极差|{date}去网点办业务被晾了两个小时
> A: 非常抱歉给您带来不好的体验，您反映的情况我们会核实并对相关人员进行处理
  C: 每次都这么说|我要一个结果
## topic
? C: 当初说{fund}保本，现在亏了|理财经理说没风险，结果亏了{txn_amount}
> C: 你们的风险提示根本没说清楚|当时也没让我签风险揭示书
  A: 我们会调取当时的双录资料进行核实，如有销售不当会依规处理
## shared
+ A: 请留一个方便联系的电话，投诉专员会回电|麻烦提供联系电话
  C: {mobile}|打{mobile}|{mobile}，白天打
= A: 您的投诉已受理，投诉编号{ticket}，我们会在{days}个工作日内给您答复
  | 已为您登记投诉，专人会在{hours}小时内回电
""",
    **SNIPPETS,
)

TRANSACTION = script(
    """
## topic
? C: 转账一直失败|给{other_name}转{txn_amount}元提示交易受限
> A: 您的账户触发了非柜面交易限额，单日限额为5万元，可以在APP上调整
  C: 怎么调？|我急用，能帮我临时提高吗
+ A: 请确认收款人姓名和收款账号|麻烦核对下收款方信息
  C: 收款人{other_name}，账号{other_card}|{other_name}，工行的卡，{other_card}
## topic
? C: 我想办理分期|这个月账单{txn_amount}元能分{term}期吗
> A: 账单分{term}期，每期手续费率0.6%，总手续费约{fee}元
  C: 有优惠吗？|那就分{term}期吧
  A: 已为您办理，首期将在下个账单日入账
## topic
? C: 怎么提前还贷款？|我想提前还{loan}房贷
> A: 提前还款需提前{days}个工作日在APP提交申请，按剩余本金计算利息
  C: 有违约金吗？
  A: 您的合同满一年后提前还款不收违约金
+ @identity
## topic
? C: 我的理财到期了，钱什么时候到账|{fund}赎回了还没到账
> A: 理财产品到期后{days}个工作日内本金和收益会返回您的银行卡尾号{card_tail}
  C: 收益是多少？
  A: 按年化{rate}计算，本期收益{fee}元
## topic
? C: 大额取现需要预约吗？|我要取{loan}现金
> A: 5万元以上取现需要提前一天预约
  C: 那帮我约{later}|约明天上午
= A: 已为您预约{later}大额取现，请携带本人身份证到网点办理
## topic
? C: 帮我查一笔交易|{date}有一笔{txn_amount}元的转账，流水号{txn_id}
> A: 查询到交易流水号{txn_id}，状态为处理中，资金未被扣减
  C: 那对方什么时候能收到？
  A: 跨行转账最迟次日到账
+ @txn
## shared
+ @card
= A: 业务已为您办理成功，交易流水号{txn_id}|操作已完成，请留意短信通知
""",
    **SNIPPETS,
)

LEGAL_DISPUTE = script(
    """
## topic
? C: 我的征信上有一笔逾期记录，我根本没有逾期|征信报告显示逾期{overdue}天，这不是我的问题
> A: 征信异议需要提交书面申请，我们会在20日内核查并答复|已为您提交征信异议申请
  C: 20天太久了，我要买房|核查结果怎么通知我
= A: 经核实，该笔逾期确属系统差错，已向征信中心申请更正，{days}个工作日内生效
  C: 那影响我贷款的损失怎么算？|终于搞清楚了
+ C: [image]
  C: 这是征信报告截图|你们看这一条
## topic
? C: 你们放贷的时候先扣了服务费，这是砍头息|合同写{loan}，实际到手少了很多
> C: 根据民法典，借款利息不得预先扣除|你们这个年化利率已经超过法律保护上限了
  A: 我已将您提出的问题转交法务部门核实，会在{days}个工作日内给您正式回复
## topic
? C: 你们的理财经理销售误导，我要求全额赔偿|买{fund}的时候没有做风险评估
> A: 我们会调取当时的风险评估记录和双录视频，确认是否存在违规销售
  C: 我要看录像|当时根本没录
## topic
? C: 信用卡被盗刷，你们拒绝赔偿，我准备起诉|法院已经立案了，你们看着办
  C: [file:起诉状.pdf]
> A: 您的诉求我们已经记录，涉及法律纠纷的事项会转交法务部门统一处理
  C: 我要求你们书面答复|我的律师会联系你们
+ @card
## topic
? C: 你们起诉我了？我从来没借过这笔钱|我收到法院传票，说我欠你们{txn_amount}
> A: 如果您对这笔借款有异议，建议您向法院提交证据，我们也会配合调查是否存在冒名贷款
  C: 肯定是有人冒用我的身份证|我要报警
+ A: 请提供一下借款人姓名、身份证号和合同编号|麻烦提供身份证号，我查询贷款合同
  C: {name}，{id_card}，合同号HT{txn_id}|{id_card}，合同编号我找一下
## shared
+ @identity
+ A: 请问您的律师联系方式是什么？法务部会与其对接
  C: 律师姓{other_surname}，电话{other_mobile}|律所座机{other_landline}
= A: 已为您登记法律纠纷工单{ticket}，法务专员会在{days}个工作日内联系您或您的律师
""",
    **SNIPPETS,
)

SCRIPTS = {
    "consultation": CONSULTATION,
    "after_sales": AFTER_SALES,
    "complaint": COMPLAINT,
    "transaction": TRANSACTION,
    "legal_dispute": LEGAL_DISPUTE,
}
