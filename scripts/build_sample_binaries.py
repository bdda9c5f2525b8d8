"""Build the PDF, DOCX and PPTX assets of the sample library (and their sidecars).

Run from the repository root::

    python scripts/build_sample_binaries.py [--out content_library]

The texts live in this script; the output is deterministic (fixed document dates and
fixed ZIP timestamps), so re-running it on an unchanged script leaves the files byte-identical
and re-ingesting the library does no work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from pathlib import Path

import yaml

FIXED_TIME = dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.UTC)
ZIP_TIME = (2026, 6, 1, 9, 0, 0)
URL = "https://waymark.example/resources/{}"
ALL_PRODUCTS = ["route-optimizer", "fleet-telematics", "warehouse-insights", "demand-forecaster"]


# --------------------------------------------------------------------------------------------
# PDF documents: list of (heading, paragraphs) sections.
# --------------------------------------------------------------------------------------------

SECURITY_OVERVIEW = [
    ("Waymark Systems: Security Overview", [
        "This document describes how Waymark Systems protects customer data across Route "
        "Optimizer, Fleet Telematics, Warehouse Insights and Demand Forecaster. It is intended "
        "for security, privacy and IT teams completing a vendor risk assessment before contract "
        "signature. Version 4.2, June 2026.",
    ]),
    ("1. Compliance", [
        "Waymark holds a SOC 2 Type II report covering Security, Availability and "
        "Confidentiality for the period June 2025 to May 2026, issued with no exceptions, and "
        "an ISO/IEC 27001:2022 certificate. We sign business associate agreements for HIPAA and "
        "a GDPR data processing addendum with the 2021 standard contractual clauses. An "
        "independent penetration test is performed every year; the 2026 test found no critical "
        "issues and all high and medium findings were fixed and re-tested.",
    ]),
    ("2. Architecture and hosting", [
        "All products run on Amazon Web Services in us-east-2 (Ohio) for North American "
        "customers and eu-central-1 (Frankfurt) for European customers. Customer data never "
        "leaves the chosen region except for encrypted backups replicated to a second region "
        "in the same jurisdiction. Production runs in private subnets; only load balancers are "
        "exposed, behind a web application firewall and DDoS protection.",
        "Tenants are isolated logically: every query is scoped by tenant identifier in the data "
        "access layer, and every tenant has its own data encryption key. Isolation is tested in "
        "every penetration test with two tenants controlled by the testers.",
    ]),
    ("3. Encryption", [
        "Data in transit uses TLS 1.3 (TLS 1.2 accepted for legacy integrations). Data at rest "
        "is encrypted with AES-256; keys are held in AWS KMS and rotated every year. Enterprise "
        "customers can bring their own key and revoke it at any time, which renders their data "
        "unreadable within minutes.",
    ]),
    ("4. Identity and access", [
        "Customers sign in through SAML 2.0 or OpenID Connect single sign-on with their own "
        "multi-factor policy, and provision users with SCIM 2.0. Roles are scoped by product, "
        "site and region. Waymark engineers have no standing access to production: access is "
        "requested per incident, approved by a second engineer, limited to four hours and "
        "recorded. All staff use hardware security keys.",
    ]),
    ("5. Monitoring and incident response", [
        "Logs from applications, infrastructure and the identity provider are centralised and "
        "kept for 13 months. A security engineer is on call 24 hours a day. Our incident "
        "response plan is tested twice a year with tabletop exercises and commits to notifying "
        "affected customers within 48 hours of confirming a personal data breach. Customers can "
        "stream their own audit logs to Splunk, Microsoft Sentinel or any syslog receiver.",
    ]),
    ("6. Fleet devices", [
        "Edge T3 telematics devices use signed firmware with secure boot, receive updates over "
        "the air through an authenticated channel, and listen to the vehicle bus in read-only "
        "mode; CAN transmit is disabled in hardware on standard units. Devices communicate only "
        "with Waymark's cloud, never with the customer's corporate or plant networks.",
    ]),
    ("7. Business continuity", [
        "Backups run daily with point-in-time recovery, are immutable for 35 days and are "
        "restore-tested twice a year. The recovery point objective is 15 minutes and the "
        "recovery time objective four hours. Over the last twelve months availability was "
        "99.96 percent against a 99.9 percent service level.",
        "Questions: security@waymark.example. The full SOC 2 report is available under NDA.",
    ]),
]

MERIDIAN_ECONOMIC_IMPACT = [
    ("Meridian Research: The Economic Impact of Waymark Systems", [
        "A commissioned study of four Waymark customers, conducted by Meridian Research in "
        "March and April 2026. Meridian interviewed finance, operations and IT leaders at a "
        "regional carrier, a components manufacturer, a building-materials distributor and a "
        "food distributor, and built a composite organisation to estimate costs and benefits "
        "over three years.",
    ]),
    ("The composite organisation", [
        "Annual revenue of $900 million, two manufacturing plants and four distribution "
        "centres, 180 vehicles and 60 pieces of powered equipment. Before Waymark it planned "
        "routes in a legacy tool once a day, forecast demand in spreadsheets, and ran two "
        "telematics vendors. It deployed all four Waymark products over nine months.",
    ]),
    ("Quantified benefits over three years (present value)", [
        "Transport savings of $3.9 million from 11 percent fewer miles and 7 percent fewer "
        "driver hours. Expediting and premium freight reduced by $2.7 million as forecast "
        "accuracy at part level rose from 60 to 75 percent. Inventory carrying cost lower by "
        "$2.1 million after raw material stock fell 22 percent. Fuel and maintenance savings "
        "of $1.6 million from idle reduction and engine-hour maintenance. Retired legacy "
        "tools worth $0.6 million.",
        "Total present value of benefits: $10.9 million.",
    ]),
    ("Costs (present value)", [
        "Subscriptions of $1.5 million, implementation services of $0.3 million and internal "
        "effort of $0.5 million, mostly IT integration time and training. Total costs: "
        "$2.3 million.",
    ]),
    ("Financial summary", [
        "Net present value of $8.6 million, a return on investment of 374 percent and payback "
        "in seven months. Meridian's risk-adjusted model reduced benefits by 10 to 20 percent "
        "depending on category to reflect uncertainty.",
    ]),
    ("Unquantified benefits", [
        "Interviewees described a shared view of operations between finance and the plants, "
        "faster answers to security questionnaires from their own customers, and better "
        "driver retention after scorecards were made fair. One operations director said the "
        "largest change was that planners stopped defending plans and started improving them.",
    ]),
    ("Considerations for evaluators", [
        "Benefits depend on the starting point. Organisations that already re-plan routes "
        "during the day should expect transport savings closer to 5 percent. Forecasting "
        "benefits require at least two years of clean demand history. Meridian recommends a "
        "proof of value with the evaluator's own data before building a business case.",
    ]),
]

ROI_GUIDE = [
    ("Fleet payback guide: estimating the return on routing and telematics", [
        "This guide walks finance and fleet leaders through a payback estimate for Waymark "
        "Route Optimizer and Fleet Telematics. It is designed for food and beverage "
        "distributors and construction suppliers, where trucks are heavy, stops are long and "
        "idling is common. Fill in the worksheet on the last page with your own figures.",
    ]),
    ("Step 1: establish the baseline", [
        "Collect four numbers for the last twelve months: total fuel spend, total driver wages "
        "including overtime, maintenance spend split into planned and unplanned, and the "
        "number of routes run. A 70-truck beverage distributor in our sample spent $3.2 "
        "million on fuel, $6.1 million on drivers and $1.4 million on maintenance across "
        "17,500 routes.",
    ]),
    ("Step 2: apply conservative savings rates", [
        "From 120 customer deployments: fuel falls 8 to 12 percent (use 8), driver hours fall "
        "6 to 12 percent (use 6), unplanned maintenance falls 25 to 40 percent (use 25), and "
        "route count falls 5 to 10 percent (use 5). For the beverage example this gives "
        "$256,000 in fuel, $366,000 in driver time and $140,000 in maintenance: $762,000 a "
        "year before route reductions.",
        "Construction suppliers should add equipment utilisation: if owned telehandlers sit "
        "idle while equivalent units are rented, count half of last year's rental spend as "
        "avoidable.",
    ]),
    ("Step 3: add the costs", [
        "Route Optimizer Professional at $59 per vehicle per month and Fleet Telematics "
        "Professional at $29: for 70 trucks, $73,920 a year. Devices are included on a "
        "36-month term; installation is $75 per vehicle and implementation services about "
        "$18,000.",
    ]),
    ("Step 4: calculate payback and return", [
        "Payback in months equals one-time costs divided by monthly net benefit. For the "
        "example, one-time costs of $23,250 against a monthly net benefit of $57,340 give a "
        "payback of under one month after go-live; three-year return is roughly nine times "
        "the total cost.",
    ]),
    ("Step 5: stress-test", [
        "Halve every savings rate and recalculate. If payback is still under twelve months, "
        "the case is robust. Most finance teams also ask for the savings to be tracked: "
        "Waymark reports fuel, hours and maintenance against the baseline every quarter.",
        "Worksheet: fuel spend x 8% = ____; driver cost x 6% = ____; unplanned maintenance x "
        "25% = ____; annual cost = vehicles x $88 x 12 = ____; payback = one-time cost / "
        "(monthly benefit - monthly cost) = ____ months.",
    ]),
]

# --------------------------------------------------------------------------------------------
# DOCX documents: heading, list of (subheading or None, paragraphs), optional table.
# --------------------------------------------------------------------------------------------

ENTERPRISE_PROPOSAL = {
    "heading": "Proposal: Waymark supply chain platform for [Customer]",
    "sections": [
        (None, [
            "Prepared for [Customer name] by [Account executive], Waymark Systems, Inc. "
            "Proposal valid for 60 days from [date]. This template is used for multi-product "
            "enterprise proposals above $150,000 a year; replace text in brackets and remove "
            "sections that do not apply.",
        ]),
        ("1. Executive summary", [
            "[Customer] operates [six distribution centres and 240 vehicles] and has set three "
            "goals for [2027]: reduce cost to serve by [8 percent], release [$10 million] of "
            "working capital and improve on-time delivery to [97 percent]. During the "
            "evaluation Waymark re-planned four weeks of [Customer]'s orders and back-tested "
            "two years of demand, showing [11 percent fewer miles] and [18 points higher "
            "forecast accuracy] on [Customer]'s own data.",
        ]),
        ("2. Proposed solution", [
            "Route Optimizer Professional for [240] vehicles; Warehouse Insights for [6] "
            "sites; Demand Forecaster for up to [250,000] SKU-locations. All products share one "
            "data model and one connection to [SAP S/4HANA].",
        ]),
        ("3. Scope of services", [
            "Fixed-fee implementation in three phases over [20] weeks: connect and configure "
            "(weeks 1 to 6), lead site and lead depot live (weeks 7 to 12), wave rollout "
            "(weeks 13 to 20). Waymark provides a project manager, solution architect and "
            "implementation consultants; [Customer] provides a project owner, site leads and "
            "an integration engineer for about 30 percent of their time in phase 1.",
        ]),
        ("4. Investment", [
            "The table below shows annual subscription fees at 2026 list prices with the "
            "three-year term and multi-product discounts applied.",
        ]),
    ],
    "table": [
        ["Item", "Quantity", "Annual list", "Annual proposed"],
        ["Route Optimizer Professional", "240 vehicles", "$169,920", "$127,440"],
        ["Warehouse Insights", "6 sites", "$129,600", "$97,200"],
        ["Demand Forecaster", "250,000 SKU-locations", "$114,000", "$85,500"],
        ["Implementation (one-time)", "fixed fee", "$96,000", "$96,000"],
    ],
    "closing": [
        ("5. Terms", [
            "36-month term from the first go-live. Annual billing in advance, net 30. Renewal "
            "increases capped at 5 percent. Licences may increase at the same unit prices at "
            "any time. Success criteria, measured at day 90: [miles per stop down 8 percent; "
            "picks per labour hour up 15 percent; forecast accuracy up 10 points].",
        ]),
        ("6. Why Waymark", [
            "Shortest time to value in the Northgate Q2 2026 evaluation, one platform instead "
            "of three vendors, SOC 2 Type II and ISO 27001, and references of similar size: "
            "[Northwind Logistics, Lumen Apparel, Corvid Precision Parts].",
        ]),
        ("7. Acceptance", [
            "To accept, sign the attached order form. Kick-off can begin within ten business "
            "days of signature.",
        ]),
    ],
}

WAREHOUSE_PLAN = {
    "heading": "Warehouse Insights: 90-day implementation plan",
    "sections": [
        (None, [
            "Implementation plan for [Customer], covering the first two distribution centres "
            "of a retail or third-party logistics network. Agreed before signature and "
            "attached to the statement of work. It sets out phases, milestones, "
            "responsibilities and the acceptance criteria for each phase.",
        ]),
        ("Days 1 to 15: mobilise and connect", [
            "Kick-off workshop with the executive sponsor, IT lead and both site general "
            "managers. Success metrics confirmed: units per labour hour, picker travel per "
            "order and dock dwell time. Customer IT grants read-only access to the WMS (Blue "
            "Yonder or Manhattan) and configures single sign-on; Waymark installs the "
            "certified connector and loads 18 months of pick, receipt and labour history.",
            "Milestone: data reconciled to the WMS within 1 percent for units and orders.",
        ]),
        ("Days 16 to 45: lead site", [
            "Waymark analyses slotting and delivers a prioritised move list; the top 400 moves "
            "typically recover 70 percent of the available travel reduction. The site "
            "executes moves over two weekends. Labour standards are configured by activity "
            "and validated with supervisors on the floor. Dashboards go live on shift-start "
            "screens.",
            "Milestone: measured travel reduction of at least 15 percent on moved SKUs.",
        ]),
        ("Days 46 to 75: second site and dock scheduling", [
            "The second site follows the same playbook in half the time because the connector "
            "and data model are already in place. Dock appointment scheduling is switched on "
            "at the lead site; carriers book through the portal and receivers see the "
            "expected unload effort for each appointment.",
            "Milestone: 80 percent of inbound trucks booked through the portal.",
        ]),
        ("Days 76 to 90: stabilise and review", [
            "Hand-over to the customer success manager, first monthly re-slotting cycle, and a "
            "90-day business review comparing results with the baseline.",
        ]),
    ],
    "table": [
        ["Role", "Organisation", "Time commitment"],
        ["Executive sponsor", "Customer", "1 hour per week"],
        ["Site lead (per site)", "Customer", "6 hours per week"],
        ["IT / integration engineer", "Customer", "20 hours in days 1 to 15"],
        ["Implementation lead", "Waymark", "Full time, days 1 to 90"],
        ["Solution architect", "Waymark", "Days 1 to 30"],
    ],
    "closing": [
        ("Risks", [
            "Inaccurate item dimensions delay slotting; Waymark flags suspect dimensions in "
            "the first week. Peak season: no go-live in the six weeks before the customer's "
            "peak.",
        ]),
    ],
}

PROCUREMENT_FAQ = {
    "heading": "Procurement and security questions: answers for the final review",
    "sections": [
        (None, [
            "Answers to the questions procurement and security teams at manufacturers and "
            "health systems ask most often before signature. Approved by Waymark legal and "
            "security, October 2026.",
        ]),
        ("Is Waymark financially stable?", [
            "Waymark has been operating since 2014, serves more than 1,100 customers and has "
            "been cash-flow positive since 2023. Audited financial summaries are available "
            "under NDA for contracts above $250,000 a year.",
        ]),
        ("Will you complete our supplier onboarding forms?", [
            "Yes: W-9, certificate of insurance, supplier diversity and sanctions screening "
            "forms are typically returned within three business days. We are registered on "
            "Ariba, Coupa and Jaggaer.",
        ]),
        ("What insurance do you carry?", [
            "Commercial general liability of $2 million per occurrence, cyber and technology "
            "errors and omissions of $10 million, and workers' compensation as required by "
            "law. Certificates name the customer as additional insured on request.",
        ]),
        ("Can you meet our security requirements?", [
            "We hold SOC 2 Type II and ISO 27001, sign HIPAA business associate agreements "
            "and complete SIG Lite, CAIQ and HECVAT questionnaires. Single sign-on, SCIM, "
            "audit log export and customer-managed keys are available.",
        ]),
        ("Where is our data and who can access it?", [
            "In AWS us-east-2 or eu-central-1 at your choice. Waymark staff have no standing "
            "access; support access is approved per ticket and logged. Subprocessors are "
            "listed on our trust portal with 30 days' notice of changes.",
        ]),
        ("What are the liability terms?", [
            "Liability is capped at twelve months of fees, with a higher cap of two times "
            "annual fees for data protection breaches. Enterprise customers can negotiate "
            "higher caps.",
        ]),
        ("Is there a price increase at renewal?", [
            "Increases are capped at 5 percent per year, or 3 percent for healthcare "
            "customers on the healthcare schedule. A three-year term fixes prices for the "
            "whole term.",
        ]),
        ("Can we terminate if the product does not deliver?", [
            "Success criteria can be written into the statement of work. If they are not met "
            "at the agreed review, you may terminate the affected product with a pro-rata "
            "refund of prepaid fees.",
        ]),
    ],
    "table": None,
    "closing": [],
}

# --------------------------------------------------------------------------------------------
# PPTX decks: list of (title, bullet lines, speaker notes).
# --------------------------------------------------------------------------------------------

PLATFORM_DECK = [
    ("Waymark Systems: supply chain execution on one platform", [
        "Route Optimizer, Fleet Telematics, Warehouse Insights, Demand Forecaster",
        "1,100 customers in logistics, retail, manufacturing, healthcare and food",
    ], "Open by asking what changed in their operation this year. Keep this slide under a "
       "minute; the customer's problems matter more than our logo."),
    ("The problem: plans that go stale by 9 a.m.", [
        "Routes planned once a day; 10 to 30 percent of orders change after planning",
        "Forecasts in spreadsheets with no uncertainty ranges",
        "Four to eleven disconnected tools between ERP and customer",
    ], "Use the customer's own numbers from discovery if you have them. Mention that the "
       "average mid-sized manufacturer runs eleven applications between the ERP and the "
       "customer's dock."),
    ("Our approach: continuous planning on shared data", [
        "Routes re-optimised every 90 seconds",
        "Live vehicle, dock and inventory data feed every plan",
        "Probabilistic forecasts set safety stock and truck capacity",
    ], "Explain the shared data model: an item's dimensions entered once are used by "
       "slotting, routing and forecasting. This is the main difference from point "
       "solutions such as RouteLogic or FleetPilot."),
    ("Results customers have measured", [
        "Northwind Logistics: freight cost per shipment down 18 percent",
        "Saint Brigid Health: $4.3 million of inventory released",
        "Ironclad Build Supply: $1.2 million a year in fuel and equipment",
        "Lumen Apparel: 30 percent fewer temporary workers at peak",
    ], "Pick the two proof points closest to the prospect's industry and tell them as "
       "stories: challenge, what changed, the number. All four customers take reference "
       "calls."),
    ("Security and integration", [
        "SOC 2 Type II, ISO 27001, HIPAA BAA",
        "Connectors for SAP, Oracle, Microsoft, NetSuite, Manhattan, Blue Yonder",
        "SSO, SCIM, REST API and webhooks",
    ], "If IT is in the room, offer the integration overview and a call with our security "
       "architect. Do not go deep here; schedule a technical session instead."),
    ("Next step: a proof of value with your data", [
        "Four weeks of orders re-planned, or two years of demand back-tested",
        "Results in two to three weeks, at no charge",
    ], "Close by agreeing what data they will send and who will review the results. A proof "
       "of value with named success criteria doubles our win rate."),
]

COLD_CHAIN_WEBINAR = [
    ("Webinar: Seeing the cold chain after the warehouse door", [
        "Industry webinar for food, beverage and healthcare distribution",
        "Speakers: Elena Vargas (Waymark research), Ray Castellano (Harbor Fresh Foods)",
    ], "Welcome everyone. This session is educational: we will look at why temperature "
       "excursions happen and what the industry is learning, not at a product demo."),
    ("Where excursions really happen", [
        "About 70 percent occur in transit or at delivery, not in storage",
        "Door openings, skipped pre-cooling and late frozen stops",
    ], "Elena presents the ride-along research: three distributors, 41 routes observed in "
       "spring 2026. A door open for eight minutes raised trailer air temperature by six "
       "to nine degrees Celsius."),
    ("The cost of not knowing", [
        "Temperature credits, write-offs and lost customers",
        "A single biologic shipment excursion can cost $20,000",
        "Weekly logger downloads reveal problems days too late",
    ], "Ray shares that before his company had live monitoring it issued about $42,000 a "
       "month in credits for warm product, and learned about most excursions from angry "
       "chefs rather than from its own data."),
    ("What good looks like", [
        "Live compartment temperatures visible to driver and dispatcher",
        "Alerts when a compartment drifts above set point for five minutes",
        "Frozen and temperature-sensitive stops sequenced early in the route",
    ], "Discuss how routing and monitoring work together. Ask the audience in a poll how "
       "they record delivery temperatures today: paper, loggers or live sensors."),
    ("Regulation and audits", [
        "FSMA sanitary transportation rule for food",
        "EU GDP and DSCSA expectations for medicines",
        "Records per delivery, retrievable on demand",
    ], "Keep this factual. Audit preparation that takes days with paper records can take "
       "an hour when every delivery carries its temperature history."),
    ("Questions to take back to your team", [
        "Where in the journey is nobody watching the temperature?",
        "How quickly would we know about an excursion today?",
        "Which customers would pay for documented cold-chain compliance?",
    ], "Thank the speakers and open Q&A. The recording and slides will be sent to all "
       "registrants within 24 hours."),
]

EXEC_SUMMARY_DECK = [
    ("Executive summary: [Customer] and Waymark", [
        "Prepared for the CFO and CIO ahead of contract signature",
        "[Regional carrier or manufacturer], [date]",
    ], "Use this deck in the negotiation meeting with the economic buyer, or at a quarterly "
       "business review before renewal. Ten minutes, then discussion."),
    ("What we agreed during the evaluation", [
        "Priorities: cut empty miles below 15 percent, halve expediting",
        "Proof of value: 11 percent fewer miles on four weeks of your orders",
        "Security review completed by your IT team with no open items",
    ], "Restate the customer's own goals and the evidence from their data. The CFO should "
       "hear nothing new here; that is the point."),
    ("Investment and return", [
        "Annual subscription: [$214,000] on a three-year term",
        "One-time implementation: [$68,000] fixed fee",
        "Expected annual benefit: [$2.3 million]; payback under four months",
    ], "Walk through the benefit build-up line by line and show the conservative case. If "
       "asked for a discount, trade it for term length or a reference, never for nothing."),
    ("Risk and how we manage it", [
        "Phased rollout: forecasting first, routing and telematics from week 6",
        "Success criteria in the statement of work, reviewed at day 90",
        "Renewal price increases capped at 5 percent",
    ], "The CIO will ask about integration effort: one connection to the ERP serves all "
       "products. The CFO will ask what happens if results do not appear: point to the "
       "success criteria clause."),
    ("Decision and next steps", [
        "Order form signature by [date]",
        "Kick-off within ten business days; first go-live in six weeks",
        "Quarterly business reviews with measured results",
    ], "Ask directly for the decision date and who else must approve. Confirm the legal "
       "redline timeline: our team returns comments within five business days."),
]

# --------------------------------------------------------------------------------------------
# Metadata (sidecars).
# --------------------------------------------------------------------------------------------


def _meta(asset_id, title, type_, stage, personas, industries, products=None, **extra):
    meta = {"id": asset_id, "title": title, "type": type_, "stage": stage,
            "personas": personas, "industries": industries,
            "products": products or ALL_PRODUCTS, "url": URL.format(asset_id)}
    meta.update(extra)
    return meta


ASSETS = [
    ("security/security-overview.pdf", "pdf", SECURITY_OVERVIEW, _meta(
        "sec-security-overview", "Waymark security overview (PDF)", "security_review",
        "decision", ["security", "cio"], ["logistics", "healthcare", "retail"],
        owner="lena.fischer@waymark.example", review_by=dt.date(2027, 6, 30))),
    ("analyst/meridian-economic-impact.pdf", "pdf", MERIDIAN_ECONOMIC_IMPACT, _meta(
        "ar-meridian-economic-impact", "Meridian Research: The Economic Impact of Waymark",
        "analyst_report", "consideration", ["cfo", "cio"], ["manufacturing", "logistics"],
        owner="maria.chen@waymark.example", expires=dt.date(2028, 6, 30))),
    ("roi/fleet-payback-guide.pdf", "pdf", ROI_GUIDE, _meta(
        "roi-fleet-payback-guide", "Fleet payback guide: routing and telematics ROI",
        "roi_calculator", "consideration", ["cfo", "fleet-manager"],
        ["food-beverage", "construction"], ["route-optimizer", "fleet-telematics"],
        owner="jonas.weber@waymark.example", review_by=dt.date(2027, 3, 31))),
    ("proposals/enterprise-proposal-template.docx", "docx", ENTERPRISE_PROPOSAL, _meta(
        "pt-enterprise-proposal", "Enterprise proposal template (multi-product)",
        "proposal_template", "decision", ["procurement", "cfo"], ["manufacturing", "retail"],
        owner="sam.ortiz@waymark.example")),
    ("implementation/warehouse-90-day-plan.docx", "docx", WAREHOUSE_PLAN, _meta(
        "ip-warehouse-90-day", "Warehouse Insights 90-day implementation plan",
        "implementation_plan", "decision", ["operations", "cio"], ["retail", "logistics"],
        ["warehouse-insights"], owner="sam.ortiz@waymark.example",
        review_by=dt.date(2027, 2, 28))),
    ("faq/procurement-questions.docx", "docx", PROCUREMENT_FAQ, _meta(
        "faq-procurement-questions", "Procurement and security questions before signature",
        "faq", "decision", ["procurement", "security"], ["manufacturing", "healthcare"],
        owner="jonas.weber@waymark.example")),
    ("product/platform-overview-deck.pptx", "pptx", PLATFORM_DECK, _meta(
        "ds-platform-overview-deck", "Waymark platform overview deck", "datasheet",
        "consideration", ["cio", "operations"], ["logistics", "manufacturing", "healthcare"],
        owner="maria.chen@waymark.example", review_by=dt.date(2027, 1, 31))),
    ("webinars/cold-chain-visibility-webinar.pptx", "pptx", COLD_CHAIN_WEBINAR, _meta(
        "wb-cold-chain-visibility", "Webinar: Seeing the cold chain after the warehouse door",
        "webinar", "awareness", ["operations", "fleet-manager"],
        ["food-beverage", "healthcare"], ["fleet-telematics", "route-optimizer"],
        owner="priya.nair@waymark.example")),
    ("proposals/exec-summary-deck.pptx", "pptx", EXEC_SUMMARY_DECK, _meta(
        "pt-exec-summary-deck", "Executive summary deck for the negotiation meeting",
        "proposal_template", "decision", ["cfo", "cio"], ["logistics", "manufacturing"],
        owner="sam.ortiz@waymark.example")),
]


# --------------------------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------------------------


def build_pdf(sections, title: str) -> bytes:
    """Return a PDF with one heading and paragraphs per section."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(title)
    pdf.set_author("Waymark Systems")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    for index, (heading, paragraphs) in enumerate(sections):
        pdf.set_font("helvetica", "B", 16 if index == 0 else 13)
        pdf.multi_cell(0, 8, heading)
        pdf.ln(2)
        pdf.set_font("helvetica", size=11)
        for text in paragraphs:
            pdf.multi_cell(0, 6, text)
            pdf.ln(2)
    return bytes(pdf.output())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps and member order, for reproducible output."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _set_core(props, title: str) -> None:
    props.title = title
    props.author = "Waymark Systems"
    props.last_modified_by = "Waymark Systems"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1


def build_docx(spec, title: str) -> bytes:
    """Return a DOCX with a heading, sections, an optional table and closing sections."""
    import docx

    document = docx.Document()
    _set_core(document.core_properties, title)
    document.add_heading(spec["heading"], level=1)

    def add_sections(sections):
        for subheading, paragraphs in sections:
            if subheading:
                document.add_heading(subheading, level=2)
            for text in paragraphs:
                document.add_paragraph(text)

    add_sections(spec["sections"])
    if spec["table"]:
        rows = spec["table"]
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    add_sections(spec["closing"])
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


def build_pptx(slides, title: str) -> bytes:
    """Return a PPTX with a title-and-content slide per entry and its speaker notes."""
    from pptx import Presentation

    presentation = Presentation()
    _set_core(presentation.core_properties, title)
    layout = presentation.slide_layouts[1]
    for heading, bullets, notes in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for line in bullets[1:]:
            body.add_paragraph().text = line
        slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return _normalise_zip(buffer.getvalue())


def sidecar_path(path: Path) -> Path:
    """Return NAME.meta.yaml beside NAME.EXT."""
    return path.with_name(path.stem + ".meta.yaml")


def dump_meta(meta: dict) -> str:
    """Return YAML front matter text with lists in flow style, keys in contract order."""
    lines = []
    for key, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{key}: [{', '.join(value)}]")
        else:
            lines.append(yaml.safe_dump({key: value}, default_flow_style=False,
                                        width=1000).strip())
    return "\n".join(lines) + "\n"


def build_all(out: Path) -> list[Path]:
    """Write every binary asset and its sidecar under out; return the paths written."""
    builders = {"pdf": build_pdf, "docx": build_docx, "pptx": build_pptx}
    written = []
    for rel, kind, spec, meta in ASSETS:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builders[kind](spec, meta["title"]))
        sidecar = sidecar_path(path)
        sidecar.write_text(dump_meta(meta), encoding="utf-8")
        written += [path, sidecar]
    return written


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("content_library"),
                        help="library root (default: content_library)")
    args = parser.parse_args()
    for path in build_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
