"""Demo data for the Netroots UK one-day event (Saturday 8 January 2028).

Pure data: event, rooms, tracks, organisations, speakers, sessions and the event's information pages (venue,
accessibility, FAQ, code of conduct, privacy, terms, contact), read by the demo loader.
The venue is made up, on a real street; e-mail addresses use the reserved .example domain and the phone
number is one of Ofcom's numbers kept for drama (020 7946 0xxx).
"""

from __future__ import annotations

EVENT = {
    "name": "Netroots UK",
    "slug": "netroots-uk-2028",
    "summary": (
        "A one-day gathering in central London where digital progressive activists "
        "meet, train and plan together through talks, panels and hands-on workshops."
    ),
    "description": (
        "Netroots UK brings together the digital grassroots of the progressive "
        "movement for a single Saturday of networking, skills training and strategy. "
        "Party members at every level, trade unionists, bloggers, pressure groups and "
        "direct-action campaigners share one building and one timetable.\n\n"
        "Across five rooms you can hear MPs explain how they use social media, learn "
        "to turn online sign-ups into people on the doorstep, pick up practical skills "
        "in video, email, data, fundraising and digital security, and argue about "
        "where the movement should go next.\n\n"
        "Tickets cost £5 and cover the whole day, including tea, coffee and a light "
        "lunch. Some workshops have limited places: first come, first served on the day, so arrive in good time."
    ),
    "venue": "Holborn Assembly Rooms",
    "address": "40 Theobalds Road, London WC1X 8NW",
    "venue_latitude": "51.521300",
    "venue_longitude": "-0.117400",
    "date": "2028-01-08",
    "starts": "09:00",
    "ends": "18:30",
    "ticket_price_pence": 500,
    "capacity": 400,
    "per_order_limit": 10,
    "hold_minutes": 30,
    "sales_open": "2026-11-01 09:00",
    "sales_close": "2028-01-07 23:59",
}

ROOMS = [
    {"name": "Main Hall", "slug": "main-hall", "capacity": 400, "position": 1},
    {"name": "Council Room", "slug": "council-room", "capacity": 150, "position": 2},
    {"name": "Library", "slug": "library", "capacity": 80, "position": 3},
    {"name": "Seminar Room A", "slug": "seminar-a", "capacity": 40, "position": 4},
    {"name": "Seminar Room B", "slug": "seminar-b", "capacity": 35, "position": 5},
]

TRACKS = [
    {
        "name": "Campaigning",
        "slug": "campaigning",
        "description": "Tools and tactics for winning campaigns: email, data, fundraising, direct action and local fights.",
    },
    {
        "name": "Organising",
        "slug": "organising",
        "description": "Building lasting groups of people, online and offline, in parties, unions and communities.",
    },
    {
        "name": "Media & blogging",
        "slug": "media-blogging",
        "description": "Writing, video and social media: telling the story and reaching people beyond the usual audience.",
    },
    {
        "name": "Politics & power",
        "slug": "politics-power",
        "description": "How the netroots relate to Parliament, parties and each other, and who gets a say in decisions.",
    },
]

ORGANISATIONS = [
    {
        "name": "Labour Party",
        "slug": "labour-party",
        "kind": "party",
        "url": "https://labour.org.uk",
        "blurb": "The UK Labour Party. Members, councillors and MPs are taking part throughout the day.",
    },
    {
        "name": "Compass",
        "slug": "compass",
        "kind": "campaign",
        "url": "https://www.compassonline.org.uk",
        "blurb": "A pressure group working for a more equal and democratic society. Its organisers help lead several sessions.",
    },
    {
        "name": "Fabian Society",
        "slug": "fabian-society",
        "kind": "campaign",
        "url": "https://fabians.org.uk",
        "blurb": "A long-standing membership society of the left that produces research and hosts political debate.",
    },
    {
        "name": "LabourYes",
        "slug": "labouryes",
        "kind": "campaign",
        "url": "https://example.org/labouryes",
        "blurb": "A Labour members' campaign group, represented on the campaign groups panel and the closing plenary.",
    },
    {
        "name": "LabourList",
        "slug": "labourlist",
        "kind": "blog",
        "url": "https://labourlist.org",
        "blurb": "An independent news and comment website for the Labour movement.",
    },
    {
        "name": "Unite",
        "slug": "unite",
        "kind": "union",
        "url": "https://www.unitetheunion.org",
        "blurb": "A large general trade union organising workers across many industries.",
    },
    {
        "name": "UNISON",
        "slug": "unison",
        "kind": "union",
        "url": "https://www.unison.org.uk",
        "blurb": "The public service union, representing staff in councils, schools, health and other services.",
    },
    {
        "name": "UK Uncut",
        "slug": "uk-uncut",
        "kind": "campaign",
        "url": "https://www.ukuncut.org.uk",
        "blurb": "A grassroots direct-action network known for protests about tax avoidance and public spending cuts.",
    },
    {
        "name": "Student Occupation Network",
        "slug": "student-occupation-network",
        "kind": "campaign",
        "url": "https://example.org/student-occupation-network",
        "blurb": "A loose network linking student activists who have organised occupations and walkouts on campuses.",
    },
    {
        "name": "Green Party",
        "slug": "green-party",
        "kind": "party",
        "url": "https://www.greenparty.org.uk",
        "blurb": "The Green Party of England and Wales. Its activists join the cross-party conversations.",
    },
    {
        "name": "Liberal Democrats",
        "slug": "liberal-democrats",
        "kind": "party",
        "url": "https://www.libdems.org.uk",
        "blurb": "The Liberal Democrats. Members from the party's social liberal wing take part in the cross-party panel.",
    },
    {
        "name": "38 Degrees",
        "slug": "38-degrees",
        "kind": "campaign",
        "url": "https://home.38degrees.org.uk",
        "blurb": "A people-powered campaigning community that runs online petitions and local actions.",
    },
    {
        "name": "Red Brick Blogs",
        "slug": "red-brick-blogs",
        "kind": "blog",
        "url": "https://example.org/red-brick-blogs",
        "blurb": "A small collective of local progressive bloggers who share hosting, editing help and readers.",
    },
    {
        "name": "Safe Signal Collective",
        "slug": "safe-signal-collective",
        "kind": "other",
        "url": "https://example.org/safe-signal-collective",
        "blurb": "Volunteer trainers who teach campaigners how to protect their phones, accounts and data.",
    },
    {
        "name": "Tenfold Films",
        "slug": "tenfold-films",
        "kind": "other",
        "url": "https://example.org/tenfold-films",
        "blurb": "A not-for-profit video co-operative that makes short films with charities and campaign groups.",
    },
    {
        "name": "Open Ledger Lab",
        "slug": "open-ledger-lab",
        "kind": "other",
        "url": "https://example.org/open-ledger-lab",
        "blurb": "A small data team that helps community groups find, clean and use public data responsibly.",
    },
]

SPEAKERS = [
    # --- Real people named in the original write-up (bios kept to what it supports) ---
    {
        "name": "Tom Watson",
        "slug": "tom-watson",
        "role": "Labour MP",
        "organisation": "labour-party",
        "bio": (
            "Tom Watson is a Labour Member of Parliament. At Netroots UK he opens the day "
            "with a keynote on how MPs use social media to deal with constituents and lobbyists."
        ),
        "links": ["https://en.wikipedia.org/wiki/Tom_Watson_(politician)"],
        "is_featured": True,
    },
    {
        "name": "Stella Creasy",
        "slug": "stella-creasy",
        "role": "Labour MP",
        "organisation": "labour-party",
        "bio": (
            "Stella Creasy is a Labour Member of Parliament. Her talk looks at how activists "
            "and voters could be given a more meaningful part in decisions and organisation."
        ),
        "links": ["https://en.wikipedia.org/wiki/Stella_Creasy"],
        "is_featured": True,
    },
    {
        "name": "Paul Dimoldenberg",
        "slug": "paul-dimoldenberg",
        "role": "Leader, Westminster Council Labour Group",
        "organisation": "labour-party",
        "bio": (
            "Paul Dimoldenberg leads the Labour group on Westminster Council. He runs a "
            "workshop with practical tips for making local party organising more effective "
            "through new media."
        ),
        "links": [],
        "is_featured": True,
    },
    {
        "name": "Alex Smith",
        "slug": "alex-smith",
        "role": "New media adviser to Ed Miliband",
        "organisation": "labour-party",
        "bio": (
            "Alex Smith advises Ed Miliband on new media. He leads a workshop on using "
            "online activity to get people taking action offline, alongside Teddy Goff."
        ),
        "links": [],
        "is_featured": True,
    },
    {
        "name": "Teddy Goff",
        "slug": "teddy-goff",
        "role": "Former new media states director, Obama 2008 campaign",
        "organisation": None,
        "bio": (
            "Teddy Goff co-ordinated new media across the states for Barack Obama's 2008 "
            "presidential campaign. He joins Alex Smith for the workshop on turning online "
            "activity into offline action."
        ),
        "links": ["https://en.wikipedia.org/wiki/Teddy_Goff"],
        "is_featured": True,
    },
    {
        "name": "Mark Ferguson",
        "slug": "mark-ferguson",
        "role": "Editor, LabourList",
        "organisation": "labourlist",
        "bio": (
            "Mark Ferguson is the editor of LabourList. He leads the workshop on growing "
            "and strengthening the progressive blogosphere."
        ),
        "links": ["https://labourlist.org"],
        "is_featured": True,
    },
    # --- Fictional speakers ---
    {
        "name": "Ruth Ashworth",
        "slug": "ruth-ashworth",
        "role": "Co-organiser, Netroots UK",
        "organisation": None,
        "bio": (
            "Ruth Ashworth is one of the volunteers who put Netroots UK together. She hosts "
            "the opening keynote and chairs the closing plenary."
        ),
        "links": ["https://example.org/people/ruth-ashworth"],
        "is_featured": False,
    },
    {
        "name": "Daniel Okafor",
        "slug": "daniel-okafor",
        "role": "Campaigns officer, Compass",
        "organisation": "compass",
        "bio": (
            "Daniel Okafor runs member campaigns at Compass. He is interested in alliances "
            "that cross party lines and in how local groups can share tactics."
        ),
        "links": ["https://example.org/people/daniel-okafor"],
        "is_featured": False,
    },
    {
        "name": "Helen Marsh",
        "slug": "helen-marsh",
        "role": "Research fellow, Fabian Society",
        "organisation": "fabian-society",
        "bio": (
            "Helen Marsh researches party democracy and policy-making for the Fabian Society. "
            "She has run several online consultations with members."
        ),
        "links": ["https://example.org/people/helen-marsh"],
        "is_featured": False,
    },
    {
        "name": "Gareth Pugh",
        "slug": "gareth-pugh",
        "role": "Volunteer co-ordinator, LabourYes",
        "organisation": "labouryes",
        "bio": (
            "Gareth Pugh co-ordinates volunteers for LabourYes from a spare room in Cardiff. "
            "He looks after the group's email list and its phone-banking rota."
        ),
        "links": ["https://example.org/people/gareth-pugh"],
        "is_featured": False,
    },
    {
        "name": "Priya Nair",
        "slug": "priya-nair",
        "role": "Contributing writer, LabourList",
        "organisation": "labourlist",
        "bio": (
            "Priya Nair writes regular opinion pieces and explainers. She started blogging "
            "about her local council before writing for a wider audience."
        ),
        "links": ["https://example.org/people/priya-nair"],
        "is_featured": False,
    },
    {
        "name": "Sean Doyle",
        "slug": "sean-doyle",
        "role": "Digital organiser, Unite",
        "organisation": "unite",
        "bio": (
            "Sean Doyle helps Unite branches use group chats, social media and online ballots. "
            "He previously worked as a shop steward in a distribution warehouse."
        ),
        "links": ["https://example.org/people/sean-doyle"],
        "is_featured": False,
    },
    {
        "name": "Claire Fenwick",
        "slug": "claire-fenwick",
        "role": "Communications officer, UNISON",
        "organisation": "unison",
        "bio": (
            "Claire Fenwick works on regional communications for UNISON. She handles press "
            "enquiries and trains branch officers to speak to the media."
        ),
        "links": ["https://example.org/people/claire-fenwick"],
        "is_featured": False,
    },
    {
        "name": "Dave Heaton",
        "slug": "dave-heaton",
        "role": "Branch secretary, UNISON",
        "organisation": "unison",
        "bio": (
            "Dave Heaton is branch secretary for council workers in a London borough. He "
            "moved most of his branch's organising on to shared online tools."
        ),
        "links": ["https://example.org/people/dave-heaton"],
        "is_featured": False,
    },
    {
        "name": "Jess Lomax",
        "slug": "jess-lomax",
        "role": "Activist, UK Uncut",
        "organisation": "uk-uncut",
        "bio": (
            "Jess Lomax has helped organise high-street protests about tax avoidance. She "
            "focuses on planning actions and supporting new local groups."
        ),
        "links": ["https://example.org/people/jess-lomax"],
        "is_featured": False,
    },
    {
        "name": "Tomasz Wróbel",
        "slug": "tomasz-wrobel",
        "role": "Co-ordinator, Student Occupation Network",
        "organisation": "student-occupation-network",
        "bio": (
            "Tomasz Wróbel is a postgraduate student who helped link up campus occupations "
            "across several universities. He maintains the network's shared resources."
        ),
        "links": ["https://example.org/people/tomasz-wrobel"],
        "is_featured": False,
    },
    {
        "name": "Aisha Rahman",
        "slug": "aisha-rahman",
        "role": "Student organiser, Student Occupation Network",
        "organisation": "student-occupation-network",
        "bio": (
            "Aisha Rahman is an undergraduate and student union officer. She organised "
            "walkouts at her college and now trains new student activists."
        ),
        "links": ["https://example.org/people/aisha-rahman"],
        "is_featured": False,
    },
    {
        "name": "Fiona Blake",
        "slug": "fiona-blake",
        "role": "Local campaigns co-ordinator, Green Party",
        "organisation": "green-party",
        "bio": (
            "Fiona Blake supports Green Party local parties with their ward campaigns. She "
            "is keen on joint working with other progressives on local issues."
        ),
        "links": ["https://example.org/people/fiona-blake"],
        "is_featured": False,
    },
    {
        "name": "Owen Pritchard",
        "slug": "owen-pritchard",
        "role": "Activist, Liberal Democrats",
        "organisation": "liberal-democrats",
        "bio": (
            "Owen Pritchard is a long-time Liberal Democrat member from the party's social "
            "liberal wing. He writes about electoral reform and local democracy."
        ),
        "links": ["https://example.org/people/owen-pritchard"],
        "is_featured": False,
    },
    {
        "name": "Laura Kemp",
        "slug": "laura-kemp",
        "role": "Email campaigns lead, 38 Degrees",
        "organisation": "38-degrees",
        "bio": (
            "Laura Kemp plans and tests large email campaigns. She has spent years working "
            "out which subject lines, asks and follow-ups get people to act."
        ),
        "links": ["https://example.org/people/laura-kemp"],
        "is_featured": False,
    },
    {
        "name": "Liam Connolly",
        "slug": "liam-connolly",
        "role": "Founder, Red Brick Blogs",
        "organisation": "red-brick-blogs",
        "bio": (
            "Liam Connolly set up Red Brick Blogs so that local writers could share hosting "
            "and readers. He also edits a community news site in the Midlands."
        ),
        "links": ["https://example.org/people/liam-connolly"],
        "is_featured": False,
    },
    {
        "name": "Sarah Whitfield",
        "slug": "sarah-whitfield",
        "role": "Blogger, Red Brick Blogs",
        "organisation": "red-brick-blogs",
        "bio": (
            "Sarah Whitfield writes about housing and local government. She helps new "
            "bloggers with editing and with finding their first readers."
        ),
        "links": ["https://example.org/people/sarah-whitfield"],
        "is_featured": False,
    },
    {
        "name": "Ben Hartley",
        "slug": "ben-hartley",
        "role": "Trainer, Safe Signal Collective",
        "organisation": "safe-signal-collective",
        "bio": (
            "Ben Hartley is a systems administrator by day and a volunteer security trainer "
            "at weekends. He runs plain-English sessions for campaign groups."
        ),
        "links": ["https://example.org/people/ben-hartley"],
        "is_featured": False,
    },
    {
        "name": "Kemi Adeyemi",
        "slug": "kemi-adeyemi",
        "role": "Trainer, Safe Signal Collective",
        "organisation": "safe-signal-collective",
        "bio": (
            "Kemi Adeyemi trains activists to protect their accounts and devices. She "
            "specialises in support for people facing online harassment."
        ),
        "links": ["https://example.org/people/kemi-adeyemi"],
        "is_featured": False,
    },
    {
        "name": "Rosie Clarke",
        "slug": "rosie-clarke",
        "role": "Video producer, Tenfold Films",
        "organisation": "tenfold-films",
        "bio": (
            "Rosie Clarke makes short campaign films with small budgets. She teaches groups "
            "to film and edit good-quality clips using only a phone."
        ),
        "links": ["https://example.org/people/rosie-clarke"],
        "is_featured": False,
    },
    {
        "name": "Sunil Mehta",
        "slug": "sunil-mehta",
        "role": "Branch secretary, Labour Party",
        "organisation": "labour-party",
        "bio": (
            "Sunil Mehta is secretary of a Labour branch in west London. He looks after the "
            "branch's newsletter, social media pages and canvassing rota."
        ),
        "links": ["https://example.org/people/sunil-mehta"],
        "is_featured": False,
    },
    {
        "name": "Joanne Pryce",
        "slug": "joanne-pryce",
        "role": "Phone bank organiser, Labour Party",
        "organisation": "labour-party",
        "bio": (
            "Joanne Pryce organises volunteer phone banks for regional campaigns. She has "
            "trained hundreds of first-time callers."
        ),
        "links": ["https://example.org/people/joanne-pryce"],
        "is_featured": False,
    },
    {
        "name": "Chris Dunmore",
        "slug": "chris-dunmore",
        "role": "Data analyst, Open Ledger Lab",
        "organisation": "open-ledger-lab",
        "bio": (
            "Chris Dunmore helps community groups work with public spending and planning "
            "data. He is happiest with a messy spreadsheet and a clear question."
        ),
        "links": ["https://example.org/people/chris-dunmore"],
        "is_featured": False,
    },
    {
        "name": "Eleanor Shaw",
        "slug": "eleanor-shaw",
        "role": "Data protection adviser, Open Ledger Lab",
        "organisation": "open-ledger-lab",
        "bio": (
            "Eleanor Shaw advises campaign groups on handling supporter data lawfully and "
            "respectfully. She has helped many small groups set up their first database."
        ),
        "links": ["https://example.org/people/eleanor-shaw"],
        "is_featured": False,
    },
    {
        "name": "Kate Dunne",
        "slug": "kate-dunne",
        "role": "Freelance political journalist",
        "organisation": None,
        "bio": (
            "Kate Dunne reports on local and national politics for regional papers and news "
            "websites. She receives far more press releases than she can read."
        ),
        "links": ["https://example.org/people/kate-dunne"],
        "is_featured": False,
    },
    {
        "name": "Patrick Osei",
        "slug": "patrick-osei",
        "role": "Organiser, Keep Our Libraries Open campaign",
        "organisation": None,
        "bio": (
            "Patrick Osei is a parent and school governor who helped run a residents' "
            "campaign to keep a branch library open. He now advises other local campaigns."
        ),
        "links": ["https://example.org/people/patrick-osei"],
        "is_featured": False,
    },
    {
        "name": "Hannah Lister",
        "slug": "hannah-lister",
        "role": "Fundraising manager, Compass",
        "organisation": "compass",
        "bio": (
            "Hannah Lister raises money from individual supporters through small regular "
            "donations. She has worked in fundraising for charities and campaign groups."
        ),
        "links": ["https://example.org/people/hannah-lister"],
        "is_featured": False,
    },
    {
        "name": "Imran Qureshi",
        "slug": "imran-qureshi",
        "role": "Community moderator, LabourList",
        "organisation": "labourlist",
        "bio": (
            "Imran Qureshi moderates comment threads and online discussion groups. He "
            "writes house rules that keep debate lively without letting it turn nasty."
        ),
        "links": ["https://example.org/people/imran-qureshi"],
        "is_featured": False,
    },
]

SESSIONS = [
    # ---------------------------------------------------------------- morning
    {
        "title": "Registration and coffee",
        "slug": "registration",
        "kind": "break",
        "starts": "09:00",
        "ends": "09:45",
        "room": "main-hall",
        "track": None,
        "speakers": [],
        "place_limit": None,
        "abstract": "Pick up your badge and programme, grab a coffee and find your first room.",
    },
    {
        "title": "Opening keynote: MPs, social media and the people they answer to",
        "slug": "opening-keynote",
        "kind": "keynote",
        "starts": "09:45",
        "ends": "10:30",
        "room": "main-hall",
        "track": "politics-power",
        "speakers": ["tom-watson", "ruth-ashworth"],
        "place_limit": None,
        "abstract": (
            "Tom Watson MP opens the day by looking at how Members of Parliament use social "
            "media in their dealings with constituents and with lobbyists. What changes when "
            "anyone can reach their MP in public, and who benefits? Ruth Ashworth welcomes "
            "everyone and introduces the programme."
        ),
    },
    # Slot A 10:45-11:45
    {
        "title": "Many fronts: parties, unions and campaigners against the cuts",
        "slug": "many-fronts-against-the-cuts",
        "kind": "panel",
        "starts": "10:45",
        "ends": "11:45",
        "room": "main-hall",
        "track": "politics-power",
        "speakers": ["daniel-okafor", "claire-fenwick", "fiona-blake", "jess-lomax"],
        "place_limit": None,
        "abstract": (
            "Opposing spending cuts takes more than a vote in Parliament. Speakers from a "
            "pressure group, a union, a party and a direct-action network discuss where each "
            "is strongest and how they can avoid getting in each other's way."
        ),
    },
    {
        "title": "From clicks to doorsteps: using online activity to drive offline action",
        "slug": "online-to-offline-action",
        "kind": "workshop",
        "starts": "10:45",
        "ends": "11:45",
        "room": "council-room",
        "track": "organising",
        "speakers": ["alex-smith", "teddy-goff"],
        "place_limit": None,
        "abstract": (
            "Likes and shares are easy; getting people to a meeting, a street stall or a "
            "doorstep is harder. Alex Smith and Teddy Goff lead a practical session on "
            "designing online asks that lead to real-world action. Come with a campaign "
            "you are working on."
        ),
    },
    {
        "title": "Email lists people actually read",
        "slug": "email-lists-people-read",
        "kind": "talk",
        "starts": "10:45",
        "ends": "11:45",
        "room": "library",
        "track": "campaigning",
        "speakers": ["laura-kemp"],
        "place_limit": None,
        "abstract": (
            "Email is still the workhorse of online campaigning. This talk covers building a "
            "list, writing a clear ask, timing your sends and knowing when to stop emailing "
            "someone."
        ),
    },
    {
        "title": "Digital security basics for activists",
        "slug": "digital-security-basics",
        "kind": "workshop",
        "starts": "10:45",
        "ends": "11:45",
        "room": "seminar-a",
        "track": "organising",
        "speakers": ["ben-hartley", "kemi-adeyemi"],
        "place_limit": 30,
        "abstract": (
            "Bring your phone and laptop. We will set up strong passwords and two-factor "
            "login, check app permissions and talk through safer group messaging. No "
            "technical knowledge needed."
        ),
    },
    {
        "title": "Shoot it on your phone: campaign video in an hour",
        "slug": "campaign-video-on-your-phone",
        "kind": "workshop",
        "starts": "10:45",
        "ends": "11:45",
        "room": "seminar-b",
        "track": "media-blogging",
        "speakers": ["rosie-clarke"],
        "place_limit": 25,
        "abstract": (
            "Learn to plan, film and edit a short campaign clip using just a smartphone. "
            "Covers framing, sound, subtitles and keeping it under a minute. You will leave "
            "with a finished video."
        ),
    },
    {
        "title": "Coffee break",
        "slug": "morning-coffee",
        "kind": "break",
        "starts": "11:45",
        "ends": "12:15",
        "room": "main-hall",
        "track": None,
        "speakers": [],
        "place_limit": None,
        "abstract": "Tea, coffee and time to talk with people you have just met.",
    },
    # Slot B 12:15-13:15
    {
        "title": "Occupations, sit-ins and hashtags: direct action in a connected age",
        "slug": "direct-action-connected-age",
        "kind": "panel",
        "starts": "12:15",
        "ends": "13:15",
        "room": "main-hall",
        "track": "campaigning",
        "speakers": ["jess-lomax", "tomasz-wrobel", "aisha-rahman", "sean-doyle"],
        "place_limit": None,
        "abstract": (
            "People from the student occupations and the tax protests compare notes with a "
            "union organiser. How were actions planned and spread online, what went wrong, "
            "and what should established organisations learn from them?"
        ),
    },
    {
        "title": "Building up the progressive blogosphere",
        "slug": "building-the-progressive-blogosphere",
        "kind": "workshop",
        "starts": "12:15",
        "ends": "13:15",
        "room": "council-room",
        "track": "media-blogging",
        "speakers": ["mark-ferguson", "liam-connolly", "sarah-whitfield"],
        "place_limit": None,
        "abstract": (
            "How can progressive blogs reach more readers and support each other rather than "
            "compete? Mark Ferguson leads a hands-on session on linking up, sharing content "
            "and bringing new writers in. Bring your own blog or an idea for one."
        ),
    },
    {
        "title": "Can members write the manifesto? Lessons from online policy consultations",
        "slug": "members-write-the-manifesto",
        "kind": "talk",
        "starts": "12:15",
        "ends": "13:15",
        "room": "library",
        "track": "politics-power",
        "speakers": ["helen-marsh"],
        "place_limit": None,
        "abstract": (
            "Online consultations promise to open up policy-making, but many end up ignored. "
            "This talk looks at what happened when members were asked to draft ideas "
            "together, and what makes the difference between real input and box-ticking."
        ),
    },
    {
        "title": "Making your local party work harder with new media",
        "slug": "local-party-new-media",
        "kind": "workshop",
        "starts": "12:15",
        "ends": "13:15",
        "room": "seminar-a",
        "track": "organising",
        "speakers": ["paul-dimoldenberg", "sunil-mehta"],
        "place_limit": 30,
        "abstract": (
            "Paul Dimoldenberg shares practical tips for making local party organising more "
            "effective with new media, from newsletters and social pages to keeping "
            "volunteers in touch between elections. Suited to branch and constituency officers."
        ),
    },
    {
        "title": "Data without the creepiness: consent and supporter records",
        "slug": "data-without-the-creepiness",
        "kind": "talk",
        "starts": "12:15",
        "ends": "13:15",
        "room": "seminar-b",
        "track": "campaigning",
        "speakers": ["eleanor-shaw"],
        "place_limit": None,
        "abstract": (
            "Campaigns run on data, and supporters deserve to trust how theirs is used. A "
            "plain guide to consent, keeping records tidy and choosing a supporter database "
            "that a small group can actually manage."
        ),
    },
    {
        "title": "Lunch",
        "slug": "lunch",
        "kind": "break",
        "starts": "13:15",
        "ends": "14:15",
        "room": "main-hall",
        "track": None,
        "speakers": [],
        "place_limit": None,
        "abstract": "A light lunch is served in the Main Hall; stalls from participating groups are open.",
    },
    # Slot C 14:15-15:15
    {
        "title": "Not just foot soldiers: bringing activists and voters into decisions",
        "slug": "activists-and-voters-in-decisions",
        "kind": "talk",
        "starts": "14:15",
        "ends": "15:15",
        "room": "main-hall",
        "track": "politics-power",
        "speakers": ["stella-creasy"],
        "place_limit": None,
        "abstract": (
            "Stella Creasy MP explores how activists and voters could take a more meaningful "
            "part in political decisions and in the way movements are organised. Followed "
            "by questions from the floor."
        ),
    },
    {
        "title": "Organising online in the trade union movement",
        "slug": "union-organising-online",
        "kind": "panel",
        "starts": "14:15",
        "ends": "15:15",
        "room": "council-room",
        "track": "organising",
        "speakers": ["sean-doyle", "dave-heaton", "claire-fenwick"],
        "place_limit": None,
        "abstract": (
            "Union officers and reps discuss recruiting, balloting and keeping members "
            "informed online, and what digital tools cannot replace. Includes examples from "
            "workplaces where staff rarely share a building."
        ),
    },
    {
        "title": "Beyond the echo chamber: progressives across party lines",
        "slug": "progressives-across-party-lines",
        "kind": "panel",
        "starts": "14:15",
        "ends": "15:15",
        "room": "library",
        "track": "politics-power",
        "speakers": ["owen-pritchard", "fiona-blake", "daniel-okafor"],
        "place_limit": None,
        "abstract": (
            "Activists from different parties and none ask where they can work together and "
            "where they genuinely disagree. A frank conversation about trust, tribalism and "
            "shared local campaigns."
        ),
    },
    {
        "title": "Raising money online for small campaigns",
        "slug": "online-fundraising-small-campaigns",
        "kind": "workshop",
        "starts": "14:15",
        "ends": "15:15",
        "room": "seminar-a",
        "track": "campaigning",
        "speakers": ["hannah-lister"],
        "place_limit": 40,
        "abstract": (
            "Crowdfunders, regular giving and thank-you emails that bring people back. Work "
            "through a fundraising plan for your own group and learn the rules you need to "
            "follow."
        ),
    },
    {
        "title": "Blogging for beginners: finding your voice",
        "slug": "blogging-for-beginners",
        "kind": "workshop",
        "starts": "14:15",
        "ends": "15:15",
        "room": "seminar-b",
        "track": "media-blogging",
        "speakers": ["priya-nair", "sarah-whitfield"],
        "place_limit": 20,
        "abstract": (
            "Never written a blog post? Start here. A small-group session on picking a "
            "subject, writing a strong first paragraph and getting honest feedback. Bring a "
            "laptop or a notebook."
        ),
    },
    # Slot D 15:30-16:30
    {
        "title": "Newsrooms and the netroots: getting your story covered",
        "slug": "newsrooms-and-the-netroots",
        "kind": "panel",
        "starts": "15:30",
        "ends": "16:30",
        "room": "main-hall",
        "track": "media-blogging",
        "speakers": ["kate-dunne", "liam-connolly", "priya-nair"],
        "place_limit": None,
        "abstract": (
            "A journalist and two bloggers explain what makes a story worth covering, how to "
            "approach reporters without annoying them, and when to skip the press and "
            "publish it yourself."
        ),
    },
    {
        "title": "How we kept our library open: a local campaign story",
        "slug": "keeping-the-library-open",
        "kind": "talk",
        "starts": "15:30",
        "ends": "16:30",
        "room": "council-room",
        "track": "campaigning",
        "speakers": ["patrick-osei"],
        "place_limit": None,
        "abstract": (
            "A residents' group with no budget took on a closure plan and won. This talk "
            "walks through the petition, the public meetings, the social media and the "
            "mistakes, with lessons for other local fights."
        ),
    },
    {
        "title": "Running a phone bank and text bank from anywhere",
        "slug": "phone-and-text-banking",
        "kind": "workshop",
        "starts": "15:30",
        "ends": "16:30",
        "room": "library",
        "track": "organising",
        "speakers": ["joanne-pryce"],
        "place_limit": 40,
        "abstract": (
            "Volunteers can now call and text supporters from home. Learn how to set up a "
            "session, write a script that sounds human and keep callers motivated, then try "
            "a practice round."
        ),
    },
    {
        "title": "Social media for union reps",
        "slug": "social-media-for-union-reps",
        "kind": "workshop",
        "starts": "15:30",
        "ends": "16:30",
        "room": "seminar-a",
        "track": "organising",
        "speakers": ["sean-doyle", "dave-heaton"],
        "place_limit": 30,
        "abstract": (
            "A practical session for workplace reps on running a branch page or group chat, "
            "posting safely and getting members to show up. Includes what to do when a "
            "manager is reading."
        ),
    },
    {
        "title": "Trolls, pile-ons and moderation: keeping online spaces healthy",
        "slug": "trolls-and-moderation",
        "kind": "talk",
        "starts": "15:30",
        "ends": "16:30",
        "room": "seminar-b",
        "track": "media-blogging",
        "speakers": ["imran-qureshi"],
        "place_limit": None,
        "abstract": (
            "Comment threads and group chats can turn hostile fast. Practical house rules, "
            "moderation habits and ways to look after moderators, drawn from running busy "
            "political discussion spaces."
        ),
    },
    {
        "title": "Afternoon tea",
        "slug": "afternoon-tea",
        "kind": "break",
        "starts": "16:30",
        "ends": "16:45",
        "room": "main-hall",
        "track": None,
        "speakers": [],
        "place_limit": None,
        "abstract": "A short break for tea and biscuits before the final sessions.",
    },
    # Slot E 16:45-17:30
    {
        "title": "Students online: organising the next generation",
        "slug": "students-online",
        "kind": "talk",
        "starts": "16:45",
        "ends": "17:30",
        "room": "council-room",
        "track": "organising",
        "speakers": ["aisha-rahman", "tomasz-wrobel"],
        "place_limit": None,
        "abstract": (
            "Two student organisers describe how campus groups use group chats, shared "
            "documents and livestreams to mobilise quickly, and how they keep going once the "
            "headlines move on."
        ),
    },
    {
        "title": "Campaign groups inside the party: Compass, the Fabians and LabourYes",
        "slug": "campaign-groups-inside-the-party",
        "kind": "panel",
        "starts": "16:45",
        "ends": "17:30",
        "room": "library",
        "track": "politics-power",
        "speakers": ["gareth-pugh", "helen-marsh", "daniel-okafor"],
        "place_limit": None,
        "abstract": (
            "What can member-led groups achieve that a party machine cannot? Organisers from "
            "three campaign groups talk about recruiting online, influencing policy and "
            "staying independent while working alongside the party."
        ),
    },
    {
        "title": "Follow the money: open spending data for campaigners",
        "slug": "open-spending-data",
        "kind": "workshop",
        "starts": "16:45",
        "ends": "17:30",
        "room": "seminar-a",
        "track": "campaigning",
        "speakers": ["chris-dunmore"],
        "place_limit": 25,
        "abstract": (
            "Councils and government bodies publish a lot of spending data. Learn where to "
            "find it, how to make sense of it in a spreadsheet and how to turn a finding into "
            "a story. Bring a laptop."
        ),
    },
    {
        "title": "Test, don't guess: simple experiments for small campaigns",
        "slug": "test-dont-guess",
        "kind": "talk",
        "starts": "16:45",
        "ends": "17:30",
        "room": "seminar-b",
        "track": "campaigning",
        "speakers": ["laura-kemp"],
        "place_limit": None,
        "abstract": (
            "You do not need a huge list to learn from your supporters. How to run simple "
            "A/B tests on emails and posts, read the results honestly and avoid fooling "
            "yourself with small numbers."
        ),
    },
    # ---------------------------------------------------------------- close
    {
        "title": "Closing plenary: one movement, many fronts",
        "slug": "closing-plenary",
        "kind": "panel",
        "starts": "17:35",
        "ends": "18:10",
        "room": "main-hall",
        "track": "politics-power",
        "speakers": ["ruth-ashworth", "gareth-pugh", "jess-lomax", "dave-heaton", "aisha-rahman"],
        "place_limit": None,
        "abstract": (
            "Voices from a campaign group, a direct-action network, a union branch and the "
            "student movement reflect on the day and agree next steps. Ruth Ashworth chairs "
            "and takes pledges from the floor."
        ),
    },
    {
        "title": "Drinks and networking",
        "slug": "drinks-and-networking",
        "kind": "break",
        "starts": "18:10",
        "ends": "18:30",
        "room": "main-hall",
        "track": None,
        "speakers": [],
        "place_limit": None,
        "abstract": "An informal drink in the Main Hall to round off the day.",
    },
]

INFO_PAGES = [
    {
        "kind": "venue",
        "title": "Venue and getting there",
        "summary": "Holborn Assembly Rooms on Theobalds Road: Tube, bus, bike and step-free routes.",
        "position": 1,
        "body": """\
The Holborn Assembly Rooms are on the north side of Theobalds Road, between Holborn and King's Cross.
Registration opens at **09:00** in the Main Hall foyer and the opening keynote starts at 09:45.
The day ends with drinks in the Main Hall at 18:10.

## By Tube

- **Holborn** (Central and Piccadilly lines): 8 minutes' walk. Leave by the Kingsway exit, go north up
  Southampton Row and turn right into Theobalds Road.
- **Chancery Lane** (Central line): 8 minutes' walk north along Gray's Inn Road.
- **Russell Square** (Piccadilly line): 10 minutes' walk south-east through Queen Square.

Holborn and Chancery Lane have stairs and escalators only. For a step-free journey, use **Farringdon** or
**Tottenham Court Road** (Elizabeth line, lifts from street to train) or **King's Cross St Pancras**, then a
bus. Lifts are sometimes out of service: check [TfL's step-free guide](https://tfl.gov.uk/transport-accessibility/)
on the morning.

## By train

King's Cross, St Pancras and Euston are 15 to 20 minutes' walk, or a short ride on the 17, 45 or 46 bus down
Gray's Inn Road. Farringdon (Thameslink and Elizabeth line) is 12 minutes' walk.

## By bus

The **19**, **38**, **55** and **243** stop on Theobalds Road, a minute from the door (stop "Theobalds Road /
Gray's Inn Road"). The **17**, **45** and **46** run along Gray's Inn Road. Every London bus is step-free and
has a wheelchair space.

## By bike

There are Santander Cycles docking stations on Red Lion Street and Lamb's Conduit Street, and a covered rack
for 30 bikes in the venue's courtyard, through the side gate.

## By car

There is no parking at the venue, and the area is inside the Congestion Charge zone (Saturdays included).
If you hold a Blue Badge, [tell us](/info/contact/) by 1 January and we will keep you one of the two spaces
in the courtyard.

## Finding the entrance

The main door is in the middle of the building's front, under the green banner. It is level with the
pavement, with automatic doors. Stewards in green lanyards will be outside from 08:45.
""",
    },
    {
        "kind": "accessibility",
        "title": "Accessibility",
        "summary": "Step-free rooms, accessible toilets, a hearing loop, captions, BSL for the keynote and a quiet room.",
        "position": 2,
        "body": """\
We want everyone who wants to come to be able to take part fully. This page says what the building and the
day offer. If you need anything else, or aren't sure, write to <access@netroots.example> or call
[020 7946 0321](tel:+442079460321) (weekdays, 10:00 to 17:00) and we will work it out with you. Tell us by **18 December**
for anything we need to book, such as an interpreter.

[TOC]

## Getting in and around

- The main entrance on Theobalds Road is step-free: level with the pavement, with automatic doors.
- A lift serves every floor. The Main Hall, the Council Room and the Library are on the ground floor;
  Seminar Rooms A and B and the quiet room are on the first floor.
- Every room has spaces for wheelchair users at the front and at the back, and some chairs with arms.
  Ask a steward if you would like a seat kept for you.
- Routes between rooms are at least 1.2 metres wide, and signs use large, high-contrast lettering.

## Toilets

- Accessible toilets on the ground floor (by the Main Hall) and the first floor (by the lift), each with
  an emergency cord.
- Gender-neutral toilets on the ground floor, as well as men's and women's toilets on both floors.
- There is no Changing Places toilet in the building: the nearest is at King's Cross station.

## Hearing and seeing

- **Hearing loop**: in the Main Hall and the Council Room. Switch your hearing aid to T. Ask a steward
  for a portable loop in the other rooms.
- **Live captions**: every session in the Main Hall is captioned by a human captioner on the screen beside
  the stage, and on your phone through a link we send the day before.
- **British Sign Language**: BSL interpreters for the opening keynote and the closing plenary. If you
  would like BSL for another session, tell us by 18 December and we will do our best to book it.
- **Large print**: programmes in large print at registration. This website works with screen readers and
  at any text size.

## Quiet room

The **Reading Room** on the first floor is a quiet room all day: dimmed lights, comfortable seats, no
phone calls and no conversations. Anyone may use it, for as long as they like.

## Assistance and companions

- Assistance dogs are welcome; there is water for them at registration.
- If you need a personal assistant or companion with you, they come free: write to us with your booking
  reference and we will add a ticket for them.
- Stewards in green lanyards can guide you around the building and fetch food and drink from the lunch
  queue for you.

## Food

Lunch is vegetarian, with vegan and gluten-free choices labelled. Tell us about allergies when you
write, and we will check with the caterers.
""",
    },
    {
        "kind": "faq",
        "title": "Questions and answers",
        "summary": "Tickets on your phone, coming for part of the day, food, photos, children and more.",
        "position": 3,
        "body": """\
[TOC]

## Do I need to print my ticket?

No. Show the QR code from your confirmation email or your booking page on your phone at the door. If your
phone is flat, give us your name or your booking reference and we will find you.

## What does the ticket include?

The whole day: every talk, panel and workshop, tea and coffee all day, and a light lunch.

## Can I come for part of the day?

Of course. Come and go as you like; keep your ticket handy to get back in.

## How do the workshops with limited places work?

Places are first come, first served on the day. Get to the room a few minutes before the start. If a
workshop is full, the steward at the door will point you to another session.

## Can someone else use my ticket?

Yes. Write to <tickets@netroots.example> with your booking reference and the new name, and we will change
it. There is no charge.

## I've lost my confirmation email.

Use [Find your booking](/tickets/find/) with the email address you booked with, and we will send your
booking links again.

## Will there be photos and recordings?

Sessions in the Main Hall are filmed and may be published afterwards. A photographer will be around during
the day. If you would rather not be photographed, pick up a red lanyard at registration and our
photographer will leave you out.

## Can I bring children?

Anyone aged 16 or over is welcome on their own ticket. Younger people are welcome with an adult, and need a
ticket too. There is no crèche.

## Is there a cloakroom?

A small one by registration, for coats and bags. Please travel light: there is no room for suitcases.

## Is there wifi?

Yes, free throughout the building. The network name and password are on the back of your badge.

## I'm a journalist. Can I come?

Yes. Write to <press@netroots.example> with the outlet you are writing for, and we will put you on the list.
""",
    },
    {
        "kind": "code-of-conduct",
        "title": "Code of conduct",
        "summary": "Argue with ideas, not people: how we expect everyone to behave, and how to report a problem.",
        "position": 4,
        "body": """\
Netroots UK brings together people from many parties, unions and campaigns who don't always agree. That is
the point of the day. We want everyone to be able to speak, listen, disagree and learn without being
harassed, belittled or left out. This code applies to everyone: attendees, speakers, volunteers, organisers
and sponsors, in the building and in the event's online spaces.

## What we expect

- Take on arguments, not the people making them. Robust debate is welcome; personal attacks are not.
- Give others room to speak, especially in workshops and question times. Keep questions short and to the
  point.
- Ask before you photograph or film someone up close, and respect red lanyards: their wearers have asked
  not to be photographed.
- Look out for each other. If someone seems uncomfortable, check in with them or find a steward.

## What is not acceptable

- Harassment or intimidation of any kind, in person or online, including stalking, following someone
  around, and unwelcome physical contact or sexual attention.
- Insults or jokes about anyone's sex, gender identity, sexual orientation, race, ethnicity, religion,
  disability, age, appearance or class.
- Disrupting sessions, or repeatedly talking over others.
- Sharing someone's personal details, or photos of them, without their consent.

## How to report a problem

- On the day: speak to any steward in a green lanyard, or go to the registration desk and ask for the
  safety lead. You can also call or text [020 7946 0321](tel:+442079460321), answered all day.
- Before or after the event: write to <conduct@netroots.example>. Only the two organisers who handle
  conduct reports read this address.

We will listen, take what you tell us seriously, and keep it confidential. You don't have to be the person
affected to report something.

## What we will do

Depending on what happened, we may speak to the person, warn them, ask them to leave the event with no
refund, or bar them from future events. If anyone is in danger we will call the police. We will tell you
what we have done.
""",
    },
    {
        "kind": "privacy",
        "title": "Privacy notice",
        "summary": "What we keep about you when you book, why, for how long, and who processes your payment.",
        "position": 5,
        "body": """\
This notice explains what personal information the organisers of Netroots UK ("we") keep when you book a
ticket or visit this website, and what we do with it. We are the data controller for it. Questions, and
requests about your information, go to <privacy@netroots.example>.

[TOC]

## What we keep

When you book:

- your name and email address;
- the names you give for each ticket (your own, if you leave them blank);
- your booking: its reference, the number of tickets, what you paid, any refund, and when each ticket was
  checked in at the door;
- for a booking that is not yet paid, a scrambled (keyed hash) form of your internet address, so that no
  one can hold all the seats at once. We never keep the address itself.

When you visit the website, our servers log each request (the page, the time and your internet address)
to keep the site running and secure.

We **don't** keep your card details: they go straight to Stripe and we never see them. The site uses
no advertising or analytics tools, sets no tracking cookies, and loads nothing from other websites: the map
link on the venue page is a plain link to OpenStreetMap.

## Why we keep it

- To sell you tickets, send them to you, let you in on the day, and refund you if needed: this is needed
  to carry out our agreement with you (the contract).
- To keep the booking system fair and secure: our legitimate interest in running the event safely.
- To keep accounts: a legal obligation.

We will email you about your booking and about changes to the day. We won't add you to any mailing list
or share your details with the organisations taking part.

## Who processes it for us

- **Stripe** (Stripe Payments UK Ltd) takes your payment and handles refunds. Stripe keeps its own records
  of the payment under its [privacy policy](https://stripe.com/gb/privacy).
- Our **hosting provider** runs the servers the website and its database live on, in the UK.
- Our **email provider** sends your confirmation and any updates.

Each only acts on our instructions and under a contract with us, except Stripe's own records, which it
keeps as a controller in its own right, as banks do.

## How long we keep it

- Bookings and payment records: six years after the end of the financial year they were made in, as
  UK tax law requires; then we delete them.
- Names on tickets and check-in times: three months after the event; then we delete them and keep only
  the counts.
- Server logs: 30 days.

## Your rights

You can ask us for a copy of the information we hold about you, ask us to correct it, delete it or stop
using it, and object to how we use it. Write to <privacy@netroots.example> and we will reply within a month.
If you are unhappy with our answer, you can complain to the Information Commissioner's Office at
[ico.org.uk](https://ico.org.uk/make-a-complaint/).
""",
    },
    {
        "kind": "terms",
        "title": "Tickets, refunds and cancellation",
        "summary": "What you buy, when you can get your money back, and what happens if plans change.",
        "position": 6,
        "body": """\
These terms apply when you book tickets for Netroots UK on Saturday 8 January 2028. They are short, and
written to be read.

## Your booking

- A ticket costs **£5** and covers the whole day for one person.
- You can book up to 10 tickets at a time. We hold your seats for 30 minutes while you pay; if you don't
  finish paying, they go back on sale.
- Payment is taken by Stripe. Your booking is confirmed when we email you your tickets.
- Check the names and date on your confirmation, and tell us at once if anything is wrong.

## If you can't come

- **Until Saturday 1 January 2028**: we will refund your tickets in full. Write to
  <tickets@netroots.example> with your booking reference. The money goes back to the card you paid with,
  usually within 5 to 10 working days.
- **After that**: we can't refund, but you can give your ticket to someone else. Tell us their name and we
  will change it, free of charge.
- Because the tickets are for an event on a fixed date, the 14-day cooling-off period for buying online
  does not apply. These terms take its place.

## If plans change

- **If we cancel the event**, we refund every ticket in full, without your having to ask.
- **If we have to move it to another date**, you choose: keep your ticket for the new date, or have a full
  refund.
- The programme may change: speakers sometimes drop out, and sessions move. We will keep the website up to
  date, but a change to the programme is not a reason for a refund.

## On the day

- Everyone attending agrees to follow our [code of conduct](/info/code-of-conduct/). If we ask someone to
  leave because of their behaviour, we won't refund their ticket.
- Workshops with limited places are first come, first served.

## About us

Netroots UK is organised by volunteers. If something goes wrong, write to <hello@netroots.example> and we
will do our best to put it right. Nothing in these terms takes away your rights under UK consumer law.
""",
    },
    {
        "kind": "contact",
        "title": "Contact us",
        "summary": "Who to write to about bookings, access, conduct, the press and everything else.",
        "position": 7,
        "body": """\
We are a small team of volunteers and answer on weekdays, usually within two working days. On the day,
find a steward in a green lanyard, or the registration desk by the Main Hall.

| About | Write to |
| --- | --- |
| Your booking, refunds, changing a name | <tickets@netroots.example> (with your booking reference) |
| Access needs | <access@netroots.example>, or call [020 7946 0321](tel:+442079460321) |
| Something that happened at the event | <conduct@netroots.example> |
| Your personal information | <privacy@netroots.example> |
| Press and media | <press@netroots.example> |
| Anything else | <hello@netroots.example> |

Lost your tickets? [Find your booking](/tickets/find/) and we will email your booking links again.
""",
    },
]
