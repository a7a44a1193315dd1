"""``python -m bench``: speed and memory of the knowledge base, measured on this machine.

Embedded Chroma and a real ``chroma run`` server, over the real corpus and synthetic corpora
10× and 100× its size, each corpus size measured in its own process so peak RSS is honest.
Results go to ``bench/results.md`` and ``bench/chart.png``.
"""

# The same questions at every corpus size: plain questions, references, English, one refusal.
QUESTIONS = ["小微企业贷款难，有什么支持？", "我想开个小公司，办执照要多久？", "政府采购给中小企业预留多少份额？",
             "大企业拖欠货款怎么办？", "专栏5", "中小企业促进法第十条", "第三章第五节第43条", "专精特新企业有什么扶持？",
             "What does the plan say about RCEP?", "明天青岛天气怎么样？", "跨境电商出口有什么政策？",
             "民营企业家培训有哪些安排？"]
