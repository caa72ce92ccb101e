"""Telecom dialogue: plans and data, broadband repair, billing complaints, number porting and
top-ups, and disputes over contract penalties and unauthorised subscriptions. Format: see the
package docstring."""

from __future__ import annotations

from chatkeeper.demo.scripts import script

NUMBER = """
A: 请问您要查询的手机号码是多少？|麻烦提供一下需要办理业务的号码|请提供一下机主号码
| {mr}您好，请提供一下需要查询的号码|好的{mr}，麻烦报一下手机号
C: {mobile}|就是我现在这个号{mobile}|{mobile}，机主是我本人|号码{mobile}
"""
BROADBAND = """
A: 请提供一下宽带账号或者装机地址|麻烦告诉我宽带账号，我查一下线路
C: {account}|宽带账号{account}|账号不记得了，地址是{address}|{address}，宽带账号{account}
"""
SCREENSHOT = """
A: 可以截图给我看一下吗？|方便发一下扣费短信的截图吗？
C: [image]
C: 就是这个|你看，又扣了|截图发你了
"""
IDENTITY = """
A: 需要核实机主身份，请提供机主姓名和身份证号|为了核查名下号码，需要您提供身份证号码
C: {name}，{id_card}|机主{name}，身份证{id_card}|身份证号码是{id_card}
"""
SNIPPETS = {
    "number": NUMBER,
    "broadband": BROADBAND,
    "screenshot": SCREENSHOT,
    "identity": IDENTITY,
}

CONSULTATION = script(
    """
## topic
? C: 现在有什么划算的套餐？|{plan_fee}元的{plan}包含多少流量？
> A: {plan}{plan_fee}元档包含国内通用流量{data_gb}GB，通话500分钟
  | 目前{plan}月费{plan_fee}元，流量{data_gb}GB，超出后按3元/GB计费
  C: 有合约期吗？|能不能便宜点
  A: 合约期{months}个月，合约期内月费打八折
> A: [link:{plan}资费详情]
  C: 我看看|好的
## topic
? C: 我想办宽带，{speed}的多少钱一年？|我家这边能装宽带吗
> A: 您的地址可以安装{speed}光纤宽带，一年{bill}元，含光猫和安装费
  C: 多久能装好？
  A: 受理后{hours}小时内装维师傅会联系您上门
+ A: 请问您的装机地址是哪里？我查一下是否有资源
  C: {address}|装在{address}|地址：{address}，联系人{name}
## topic
? C: 出国漫游怎么收费？|去日本旅游要开通国际漫游吗
> A: 国际漫游需要提前开通，日本地区流量包每天25元不限量
  C: 接电话收费吗？
  A: 接听每分钟0.99元，短信免费接收
## topic
? C: 我的流量怎么这么快就用完了|这个月流量还剩多少？
> A: 查询到您本月已使用流量{data_gb}GB，套餐内剩余不多了
  C: 怎么用得这么快|能加个流量包吗
  A: 可以订购10元3GB的日包或30元10GB的月包
## topic
? C: 副卡怎么办理？|家里人能加到我的套餐里吗
> A: 副卡每张月费10元，共享主卡的流量和通话，最多可办4张
  C: 副卡用什么号码？|我{relation}能用吗
## topic
? C: 5G信号怎么样？我在{place}老是没信号|升级5G需要换卡吗
> A: 5G不需要换卡，手机支持5G并且开通5G套餐即可使用
  C: 信号差怎么办？
  A: 您可以在APP上提交信号问题，我们会安排优化
## shared
+ @number
= A: 已为您办理完成，次月生效，办理结果会短信通知到{mobile}
= A: 具体资费以营业厅公示为准，您也可以在{brand}APP上查看和办理
  C: 好的|我再对比一下
""",
    **SNIPPETS,
)

AFTER_SALES = script(
    """
## topic
? C: 家里宽带断网了|宽带一直连不上，光猫红灯一直闪
  | 网速特别慢，{speed}的宽带测出来只有几兆
> A: 请您先把光猫断电重启一下，等待两分钟看看是否恢复
  C: 重启了还是不行|灯还是红的
> A: 我这边远程检测了一下，您的线路存在故障，已为您派发维修工单{ticket}
  C: 什么时候能来修？|我急着用网
  A: 维修师傅会在{hours}小时内联系您上门
+ @broadband
## topic
? C: 手机卡坏了，要补卡|手机丢了，要补办电话卡
> A: 补卡可以线上办理，新卡邮寄到家后需要本人签收并激活，工本费免收
  C: 原来的号码不变吧？
  A: 号码和套餐都不变，原卡会自动失效
= A: 业务已为您办理好，新卡将通过{courier}寄出，单号{tracking}
  C: 好的谢谢|大概几天能到？
+ @identity
+ A: 请提供一下新卡的邮寄地址和联系电话
  C: {address}，电话{landline}|寄到{address}，联系{other_name} {other_mobile}
## topic
? C: 我的号码被停机了|欠费停机了，交了钱怎么还没恢复
> A: 您的号码已缴费{bill}元，系统会在半小时内自动恢复
  C: 已经一个小时了|好的，我再等等
## topic
? C: 我要改套餐|现在的{plan}太贵了，能换个便宜的吗
> A: 套餐变更次月生效，您目前在合约期内，只能升档不能降档
  C: 合约什么时候到期？
  A: 您的合约到{later}到期，到期后就可以变更了
## topic
? C: 光猫坏了要换|路由器是你们送的，坏了能换吗
> A: 光猫属于租借设备，免费更换，师傅上门时会带新设备
  C: 要收押金吗？|那旧的要还吗
+ @broadband
## shared
+ @number
= A: 已为您受理，工单号{ticket}，处理结果会短信通知您|已为您登记报修，师傅会联系您
""",
    **SNIPPETS,
)

COMPLAINT = script(
    """
## topic
? C: 为什么扣了我{bill}元话费？|这个月话费怎么多了这么多
> A: 您本月话费包含套餐费{plan_fee}元和超出套餐的流量费用
  C: 超出为什么没提醒我？|流量提醒短信我根本没收到
+ @screenshot
## topic
? C: 你们给我开了{sp}，我根本没订过|莫名其妙被扣了{sp}的费用
> A: 查询到您{date}订购了{sp}，每月{fee}元，是通过短信回复确认订购的
  C: 我根本没回过短信|这是骗人的
  A: 我这边帮您退订，并申请退还近{months}个月的费用
= A: 已为您退订{sp}，并申请退还费用{fee}元，{days}个工作日内返还到话费账户
  C: 好吧|以后别乱给我开业务
+ @screenshot
## topic
? C: 家里信号太差了，打电话都断|在{place}完全没有信号，投诉多少次了
> A: 您反映的信号问题已提交网络优化部门，工程师会到现场测试
  C: 上次也这么说|测试完要多久能改善？
  A: 一般需要{days}个工作日，结果会回访告知您
## topic
? C: 宽带报修三天了还没人来|说好{date}上门，结果没人来
> A: 真的很抱歉，装维师傅当天因为工单积压没能上门，我这边为您加急处理
  C: 我请假在家等了一天|耽误的时间谁赔
+ @broadband
## topic
? C: 营业厅工作人员诱导我办了合约|你们的推销电话天天打，烦死了
> A: 非常抱歉，我已将您的号码加入营销免打扰名单，并核查营业厅的办理过程
  C: 合约能取消吗？|以后别再打了
## shared
+ @number
+ A: 请提供一个方便联系的电话，投诉专员会回访您
  C: {mobile}|打我座机{landline}|{mobile}，工作日晚上打
= A: 您的投诉已受理，工单号{ticket}，并为您赠送{data_gb}GB流量作为补偿
""",
    **SNIPPETS,
)

TRANSACTION = script(
    """
## topic
? C: 我要携号转网|怎么转到别的运营商？
> A: 携号转网需要满足在网时间、无欠费、无合约等条件，您的号码合约到{later}到期
  C: 合约能提前解除吗？
  A: 提前解约需要支付违约金{penalty}元
= A: 携转授权码已发送到{mobile}，有效期{days}天
## topic
? C: 充了{bill}元话费没到账|话费充值显示成功但是余额没变
> A: 查询到您{date}的充值订单{order}已到账，余额为{bill}元
  C: 那是我看错了|为什么短信没提醒
+ A: 请提供充值订单号和充值时间|麻烦提供一下支付订单号
  C: {order}，{date}充的|订单号{order}
## topic
? C: 我想销户|这个号不用了，怎么注销？
> A: 销户需要结清所有费用，您当前还有欠费{bill}元
  C: 我现在交|欠费哪来的？
+ @identity
## topic
? C: 我要开发票|话费发票怎么开？
> A: 电子发票可以在APP上开具，也可以我帮您发送到邮箱
  C: 发到{email}|能开公司抬头吗
  A: 可以，需要提供统一社会信用代码
= A: 发票已发送至{email}，请注意查收
  C: 收到了|好的
## topic
? C: 想办个靓号|有尾号8888的号码吗
> A: 靓号需要预存话费并承诺最低消费，尾号8888目前已无可选号码
  C: 那有什么可选的|预存多少？
## shared
+ @number
= A: 已为您办理完成，办理结果会短信通知您|业务已受理，请留意短信
""",
    **SNIPPETS,
)

LEGAL_DISPUTE = script(
    """
## topic
? C: 你们合约到期后自动续约，这是违约|我没同意续约，凭什么扣我违约金{penalty}元
> A: 合约续约需要您本人确认，我们会调取当时的确认记录进行核查
  C: 我从来没确认过|调出来给我看
## topic
? C: 有人冒用我的身份证在你们这办了号|我名下多了两张卡，不是我办的
> A: 查询到您的身份证名下有{qty}个号码，其中一个是{date2}在营业厅办理的
  C: 那不是我办的，我要看当时的登记资料|你们怎么审核的？
  A: 我们会调取当时的业务受理资料进行核查，如确认冒名办理将立即注销并承担相应责任
= A: 经核实，已为您注销非本人办理的号码，并退还相关费用{fee}元
  C: 这件事我保留起诉的权利|行，先这样
+ @identity
## topic
? C: 你们泄露了我的个人信息，我天天接到诈骗电话|我的号码被你们卖给了推销公司
> C: 根据个人信息保护法，你们必须告诉我信息给了谁|我要求删除我的个人信息
  A: 您的请求我们已登记，会依法在规定期限内答复您
## topic
? C: 你们乱扣费已经一年多了，我要起诉要求赔偿|我律师说你们这属于不当得利
  C: [file:律师函.pdf]
> A: 您的诉求已记录，涉及法律诉讼的事项将转交我们法务部门处理
  C: 要多久答复？|我要书面回复
  A: 法务会在{days}个工作日内联系您
## shared
+ @number
+ @identity
= A: 已为您登记法务工单{ticket}，法务专员会在{days}个工作日内联系您
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
