"""What a certificate says: real PDFs made here with fpdf2, read back through pypdf.

Each certificate is laid out the way its kind is in the wild (a professional body's course,
a three-day IOSH course, a webinar platform, a university short course, NHS e-learning, a
conference letter) and each test asserts every fact the bot would propose to the member.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import count

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image, ImageDraw

from bot.services import certificate
from bot.services.certificate import CertificateFacts, propose
from bot.services.fonts import font_dir

TODAY = date(2026, 4, 20)

# A line of a certificate: its text, or (text, font size).
Line = str | tuple[str, int]


def _pdf(
    pages: Sequence[Sequence[Line]],
    *,
    author: str | None = None,
    user_password: str | None = None,
    owner_password: str | None = None,
) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)  # one list of lines is one page, however long
    folder = font_dir()
    assert folder is not None
    pdf.add_font("DejaVu", "", str(folder / "DejaVuSans.ttf"))
    pdf.set_creator("Certificate Builder 3.2")
    pdf.set_producer("fpdf2")
    if author is not None:
        pdf.set_author(author)
    if owner_password is not None:
        pdf.set_encryption(
            owner_password=owner_password,
            user_password=user_password,
            encryption_method=EncryptionMethod.AES_128,
        )
    for lines in pages:
        pdf.add_page()
        pdf.set_y(20)
        for line in lines:
            text, size = (line, 13) if isinstance(line, str) else line
            pdf.set_font("DejaVu", size=size)
            pdf.cell(0, size * 0.6, text, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _facts(pdf: bytes, date_order: str = "DMY") -> CertificateFacts | None:
    return propose(pdf, date_order=date_order, today=TODAY)


IET_ACADEMY = [
    ("The Institution of Engineering and Technology", 16),
    "IET Academy",
    ("Certificate of Completion", 28),
    "This is to certify that",
    ("Jane Smith", 22),
    "has successfully completed",
    ("Introduction to Functional Safety", 18),
    "on 5 March 2026",
    "This course represents 6 hours of CPD",
    "Date of issue: 20 March 2026",
]


def test_iet_academy_course_completion() -> None:
    assert _facts(_pdf([IET_ACADEMY])) == CertificateFacts(
        title="Introduction to Functional Safety",
        activity_date=date(2026, 3, 5),
        provider="The Institution of Engineering and Technology",
        minutes=360,
    )


def test_iosh_three_day_course_gives_its_first_day_and_no_hours() -> None:
    pdf = _pdf(
        [
            [
                ("IOSH", 30),
                "Institution of Occupational Safety and Health",
                ("Certificate", 28),
                "This is to certify that",
                ("Amit Patel", 22),
                "has attended and successfully completed the course",
                ("IOSH Managing Safely", 18),
                "Course dates: 12–14 March 2026",
                "Training provider: SafeWork Training Ltd",
                "Certificate number: 4471203",
                "Date of issue: 20/03/2026",
            ]
        ]
    )
    assert _facts(pdf) == CertificateFacts(
        title="IOSH Managing Safely",
        activity_date=date(2026, 3, 12),  # the first of the three days
        provider="SafeWork Training Ltd",
        minutes=None,  # the certificate states no time: none is guessed from '3 days'
    )


def test_webinar_platform_certificate() -> None:
    pdf = _pdf(
        [
            [
                ("Certificate of Attendance", 28),
                "Awarded to Priya Shah",
                "for attending the webinar",
                ("“Cyber Security for Operational Technology”", 18),
                "Thursday 19 February 2026, 12:00–13:30 GMT",
                "Duration: 90 minutes (1.5 CPD hours)",
                "Hosted by EngTalks Live on behalf of the Energy Institute",
            ]
        ],
        author="EngTalks Live",
    )
    assert _facts(pdf) == CertificateFacts(
        title="Cyber Security for Operational Technology",
        activity_date=date(2026, 2, 19),
        provider="Energy Institute",
        minutes=90,
    )


def test_university_short_course() -> None:
    pdf = _pdf(
        [
            [
                ("University of Manchester", 20),
                "Faculty of Science and Engineering",
                ("Certificate of Completion", 28),
                "This is to certify that",
                ("Tom Baker", 22),
                "completed the short course",
                ("Power Systems Protection and Control", 18),
                "held from 9 to 13 February 2026",
                "comprising 35 hours of study",
                "Professor A. Jones",
                "Course Director",
            ]
        ]
    )
    assert _facts(pdf) == CertificateFacts(
        title="Power Systems Protection and Control",
        activity_date=date(2026, 2, 9),
        provider="University of Manchester",
        minutes=35 * 60,
    )


NHS_ELEARNING = [
    ("NHS England", 18),
    "e-Learning for Healthcare",
    ("Certificate of Completion", 28),
    "Awarded to: Sarah Jones",
    "Course: Information Governance and Data Security",
    "Completed on: 03/02/2026",
    "Learning time: 45 minutes",
    "Certificate generated on 04/02/2026",
]


def test_nhs_elearning_certificate() -> None:
    assert _facts(_pdf([NHS_ELEARNING])) == CertificateFacts(
        title="Information Governance and Data Security",
        activity_date=date(2026, 2, 3),  # completed, not generated
        provider="NHS England",
        minutes=45,
    )


def test_numeric_dates_follow_the_members_date_order() -> None:
    facts = _facts(_pdf([NHS_ELEARNING]), date_order="MDY")
    assert facts is not None
    assert facts.activity_date == date(2026, 3, 2)


def test_conference_attendance_letter() -> None:
    pdf = _pdf(
        [
            [
                "Institute of Physics and Engineering in Medicine",
                "Fairmount House, 230 Tadcaster Road, York YO24 1ES",
                "20 November 2025",
                "To whom it may concern",
                ("Certificate of attendance", 20),
                "This letter confirms that Dr Alex Morgan attended",
                "the IPEM Annual Scientific Meeting 2025",
                "held at the University of Leeds on 5–7 November 2025.",
                "The meeting provided 15 hours of CPD.",
                "Yours faithfully,",
                "Jane Doe",
                "Chief Executive",
                "Institute of Physics and Engineering in Medicine",
            ]
        ]
    )
    assert _facts(pdf) == CertificateFacts(
        title="IPEM Annual Scientific Meeting 2025",
        activity_date=date(2025, 11, 5),  # the meeting's first day, not the letter's date
        provider="Institute of Physics and Engineering in Medicine",
        minutes=900,
    )


def test_points_count_as_hours_only_where_the_certificate_says_so() -> None:
    lines: list[Line] = [
        ("Certificate of Attendance", 28),
        "This is to certify that",
        ("Mark Lee", 22),
        "attended the three-day course",
        ("High Voltage Switching Operations", 18),
        "12–14 March 2026",
        "Awarded 18 CPD points",
        "Issued by PowerSkills Training Ltd",
    ]
    without_rule = _facts(_pdf([lines]))
    with_rule = _facts(_pdf([[*lines, "(1 CPD point = 1 hour of learning)"]]))
    assert without_rule == CertificateFacts(
        title="High Voltage Switching Operations",
        activity_date=date(2026, 3, 12),
        provider="PowerSkills Training Ltd",
        minutes=None,
    )
    assert with_rule is not None
    assert with_rule.minutes == 18 * 60


def test_provider_from_the_metadata_author_not_the_producer() -> None:
    lines: list[Line] = [
        ("Certificate of Attendance", 28),
        "Presented to Lee Wong",
        "for attending Safe Isolation Practice",
        "on 2 April 2026",
        "1 hour CPD",
    ]
    assert _facts(_pdf([lines], author="Volt Academy")) == CertificateFacts(
        title="Safe Isolation Practice",
        activity_date=date(2026, 4, 2),
        provider="Volt Academy",
        minutes=60,
    )
    facts = _facts(_pdf([lines]))  # fpdf2 as /Producer, a builder as /Creator: no provider
    assert facts is not None
    assert facts.provider is None


def test_a_certificate_with_only_its_issue_date_proposes_no_date() -> None:
    pdf = _pdf(
        [
            [
                ("Certificate of Completion", 28),
                "This is to certify that Ravi Kumar has completed",
                ("Earthing and Bonding Essentials", 18),
                "Date of issue: 14 April 2026",
                "Valid until 14 April 2029",
                "Issued by Sparks Academy Ltd",
            ]
        ]
    )
    assert _facts(pdf) == CertificateFacts(
        title="Earthing and Bonding Essentials",
        activity_date=None,  # when the course was taken is not stated
        provider="Sparks Academy Ltd",
        minutes=None,
    )


def test_a_scanned_certificate_is_not_read() -> None:
    picture = Image.new("RGB", (1200, 850), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((20, 20, 1180, 830), outline="navy", width=8)
    draw.text((420, 200), "Certificate of Attendance", fill="black")
    draw.text((420, 300), "attended Arc Flash Awareness on 3 March 2026", fill="black")
    pdf = FPDF(orientation="L", format="A4")
    pdf.add_page()
    pdf.image(picture, x=0, y=0, w=297)
    assert _facts(bytes(pdf.output())) is None


def test_a_password_protected_pdf_gives_nothing() -> None:
    pdf = _pdf([IET_ACADEMY], owner_password="owner-secret", user_password="open-sesame")
    assert _facts(pdf) is None


def test_a_pdf_locked_only_against_editing_is_read() -> None:
    pdf = _pdf([IET_ACADEMY], owner_password="owner-secret")
    facts = _facts(pdf)
    assert facts is not None
    assert facts.title == "Introduction to Functional Safety"


def test_garbage_and_broken_files_give_nothing() -> None:
    good = _pdf([IET_ACADEMY])
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, format="PNG")
    for data in (
        b"",
        b"not a pdf at all",
        bytes(range(256)) * 40,
        png.getvalue(),
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        good[: len(good) // 3],
        good[:400],
    ):
        assert _facts(data) is None


def test_a_file_over_the_size_cap_is_not_opened() -> None:
    good = _pdf([IET_ACADEMY])
    tail = b"\n" + good[good.rindex(b"startxref") :]  # the end a reader looks for, repeated
    padding = b"%" + b"x" * (certificate.MAX_BYTES - len(good) - len(tail) - 1)
    at_cap = good + padding + tail
    assert len(at_cap) == certificate.MAX_BYTES

    def read(data: bytes) -> CertificateFacts | None:
        return propose(data, today=TODAY, clock=lambda: 0.0)  # time stands still

    assert read(at_cap) is not None
    assert read(good + b"%" + padding + tail) is None  # one byte over the cap


def test_only_the_first_pages_of_a_big_pdf_are_read() -> None:
    filler = [f"Reference section {n}: notes on switching practice and safety." for n in range(30)]
    pages: list[list[Line]] = [IET_ACADEMY[:-2]]  # no hours stated on the certificate
    pages += [list(filler) for _ in range(2)]
    pages += [[*filler, "Total: 99 CPD hours"] for _ in range(297)]
    reads: list[float] = []
    clock_values = count()

    def clock() -> float:
        reads.append(0.0)
        return float(next(clock_values)) * 0.001

    facts = propose(_pdf(pages), today=TODAY, clock=clock)
    assert facts == CertificateFacts(
        title="Introduction to Functional Safety",
        activity_date=date(2026, 3, 5),
        provider="The Institution of Engineering and Technology",
        minutes=None,  # page 4 onwards is never read
    )
    assert len(reads) < 20


def _ticking(step: float) -> Iterator[float]:
    now = 0.0
    while True:
        yield now
        now += step


def test_the_time_budget_stops_inside_a_long_page() -> None:
    long_page: list[Line] = [(f"Schedule item {n} of the programme", 4) for n in range(450)]
    long_page.append("Total: 99 CPD hours")
    pdf = _pdf([IET_ACADEMY[:-2], long_page])
    reads = 0

    def clock_with(step: float) -> float:
        nonlocal reads
        reads += 1
        return next(ticks) * step

    ticks = _ticking(1.0)
    within = propose(pdf, today=TODAY, budget_seconds=1e9, clock=lambda: clock_with(1.0))
    assert within is not None
    assert within.minutes == 99 * 60  # with time enough, the long page is read
    reads = 0
    ticks = _ticking(1.0)
    bounded = propose(pdf, today=TODAY, budget_seconds=5.0, clock=lambda: clock_with(1.0))
    assert bounded == CertificateFacts(  # the long page is dropped, the first page kept
        title="Introduction to Functional Safety",
        activity_date=date(2026, 3, 5),
        provider="The Institution of Engineering and Technology",
        minutes=None,
    )
    assert reads <= 8  # stopped a few hundred operators after the budget ran out
