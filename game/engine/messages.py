# ruff: noqa: RUF001 (the sentences are in Ukrainian and Russian: Cyrillic letters are meant)
"""The engine's own sentences in every language a scenario can be read in.

The scenario gives the words of its conflict (roles, options, factors, news: see
``Scenario.localized``); the engine adds the sentences that tie them into a story ("Collapsed in
year 3: that year the risk of war was 18%, …"), the glue of a bot's notes and the generic voice
of a bot whose role has no voice of its own. They live here, one table per language, so the
engine stays pure Python: a localized scenario carries its ``language`` and the engine picks the
table by it, English where a language or a sentence is missing.

Numbers keep their values in every language; only their writing follows the language (a decimal
comma, a space before the per cent sign).
"""

from __future__ import annotations

from typing import Any

NBSP = "\u00a0"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # durability: a factor's sentence for a deal
        "little_effect": "Little effect on this deal ({times}{hr}).",
        "raises_risk": "{label} raises the risk.",
        "lowers_risk": "{label} lowers the risk.",
        "mainly": "Mainly: {option}.",
        "nothing_provides": "Nothing in this deal provides much of it.",
        "accepted_share": "It counts only as far as both sides accept the terms: here {share}.",
        "weighted_by": "Weighted {times}{mult} by: {label}.",
        "news": "News: {headlines}.",
        "list_joiner": "; ",
        "option_name": "{issue}: {option}",
        # durability: the story of one table
        "held": (
            "Held through all {span}. Its yearly risk of war was highest in year {year}: {risk}, "
            "against {base} for an average ceasefire."
        ),
        "collapsed": (
            "Collapsed in year {year}: that year the risk of war was {risk}, against {base} for an "
            "average ceasefire."
        ),
        "biggest_push": "{head} The biggest push came from: {label} ({times}{hr} that year): {why}",
        "context_push": (
            "{head} No term of the deal pushed the risk up; the fixed context did ({context}), "
            "{times}{hr}, and the dice fell badly."
        ),
        "context_push_bare": (
            "{head} No term of the deal pushed the risk up; the fixed context did, {times}{hr}, and the "
            "dice fell badly."
        ),
        "ordinary_risk": (
            "{head} No term of the deal pushed the risk up: this was the ordinary risk every ceasefire faces."
        ),
        "no_deal_held": (
            "{no_deal} That line held through all {span}; its yearly risk of war was highest in year "
            "{year}: {risk}, against {base} for an average ceasefire."
        ),
        "no_deal_collapsed": (
            "{no_deal} War came back in year {year}: that year the risk was {risk}, against {base} for "
            "an average ceasefire."
        ),
        "no_deal_cause": "No agreement: the war goes on.",
        "no_deal_label": "No agreement: the war goes on",
        "baseline_cause": "The ordinary risk any ceasefire faces (no single term stood out)",
        "conflict": (
            "These options cannot be combined: {a} excludes {b}. Choose another option for one of the two issues."
        ),
        # the bot's words around the scenario's
        "quote": "\u201c{text}\u201d",
        "instead": "\u201c{new}\u201d instead of \u201c{old}\u201d",
        "note_counter": "Counter to proposal {id}: {changes}.",
        "note_package": "{package}.",
        "note_durability": (
            "{head} Durability: {peace}% of the next {years} years at peace, {hold}% chance to hold all {years}."
        ),
        # writing numbers
        "times": "x",
        "percent": "{n}%",
        "decimal": ".",
    },
    "uk": {
        "little_effect": "Майже не впливає на цю угоду ({times}{hr}).",
        "raises_risk": "{label}: підвищує ризик.",
        "lowers_risk": "{label}: знижує ризик.",
        "mainly": "Передусім: {option}.",
        "nothing_provides": "Майже ніщо в цій угоді цього не забезпечує.",
        "accepted_share": "Це враховується лише тією мірою, якою обидві сторони приймають умови: тут {share}.",
        "weighted_by": "З вагою {times}{mult} через: {label}.",
        "news": "Новини: {headlines}.",
        "list_joiner": "; ",
        "option_name": "{issue}: {option}",
        "held": (
            "Угода протрималася всі {span}. Її річний ризик війни був найвищим у {year}-му році: {risk} "
            "проти {base} для пересічного припинення вогню."
        ),
        "collapsed": (
            "Угода зруйнувалася в {year}-му році: того року ризик війни становив {risk} проти {base} "
            "для пересічного припинення вогню."
        ),
        "biggest_push": "{head} Найбільше підштовхнув до цього чинник «{label}» ({times}{hr} того року): {why}",
        "context_push": (
            "{head} Жодна умова угоди не підвищувала ризик; це зробив незмінний контекст ({context}), "
            "{times}{hr}, і жереб ліг невдало."
        ),
        "context_push_bare": (
            "{head} Жодна умова угоди не підвищувала ризик; це зробив незмінний контекст, {times}{hr}, "
            "і жереб ліг невдало."
        ),
        "ordinary_risk": (
            "{head} Жодна умова угоди не підвищувала ризик: це був звичайний ризик, з яким стикається "
            "кожне припинення вогню."
        ),
        "no_deal_held": (
            "{no_deal} Ця лінія протрималася всі {span}; її річний ризик війни був найвищим у {year}-му "
            "році: {risk} проти {base} для пересічного припинення вогню."
        ),
        "no_deal_collapsed": (
            "{no_deal} Війна повернулася в {year}-му році: того року ризик становив {risk} проти {base} "
            "для пересічного припинення вогню."
        ),
        "no_deal_cause": "Угоди немає: війна триває.",
        "no_deal_label": "Угоди немає: війна триває",
        "baseline_cause": "Звичайний ризик, що загрожує будь-якому припиненню вогню (жодна умова не виділялася)",
        "conflict": (
            "Ці варіанти не можна поєднати: {a} виключає {b}. Виберіть інший варіант для одного з двох питань."
        ),
        "quote": "«{text}»",
        "instead": "«{new}» замість «{old}»",
        "note_counter": "Зустрічна пропозиція до пропозиції {id}: {changes}.",
        "note_package": "{package}.",
        "note_durability": (
            "{head} Тривкість: мир упродовж {peace}% наступних {span}, {hold}% шансів протриматися всі {span}."
        ),
        "times": "×",
        "percent": "{n}%",
        "decimal": ",",
    },
    "ru": {
        "little_effect": "Почти не влияет на эту сделку ({times}{hr}).",
        "raises_risk": "{label}: повышает риск.",
        "lowers_risk": "{label}: снижает риск.",
        "mainly": "Прежде всего: {option}.",
        "nothing_provides": "Почти ничто в этой сделке этого не обеспечивает.",
        "accepted_share": "Это учитывается лишь в той мере, в какой обе стороны принимают условия: здесь {share}.",
        "weighted_by": "С весом {times}{mult} из-за: {label}.",
        "news": "Новости: {headlines}.",
        "list_joiner": "; ",
        "option_name": "{issue}: {option}",
        "held": (
            "Соглашение продержалось все {span}. Его годовой риск войны был выше всего на {year}-й год: "
            "{risk} против {base} для среднего прекращения огня."
        ),
        "collapsed": (
            "Соглашение рухнуло на {year}-й год: в тот год риск войны составлял {risk} против {base} "
            "для среднего прекращения огня."
        ),
        "biggest_push": "{head} Сильнее всего к этому подтолкнул фактор «{label}» ({times}{hr} в тот год): {why}",
        "context_push": (
            "{head} Ни одно условие соглашения не повышало риск; это сделал неизменный контекст ({context}), "
            "{times}{hr}, и жребий лёг неудачно."
        ),
        "context_push_bare": (
            "{head} Ни одно условие соглашения не повышало риск; это сделал неизменный контекст, {times}{hr}, "
            "и жребий лёг неудачно."
        ),
        "ordinary_risk": (
            "{head} Ни одно условие соглашения не повышало риск: это был обычный риск, с которым "
            "сталкивается любое прекращение огня."
        ),
        "no_deal_held": (
            "{no_deal} Эта линия продержалась все {span}; её годовой риск войны был выше всего на "
            "{year}-й год: {risk} против {base} для среднего прекращения огня."
        ),
        "no_deal_collapsed": (
            "{no_deal} Война вернулась на {year}-й год: в тот год риск составлял {risk} против {base} "
            "для среднего прекращения огня."
        ),
        "no_deal_cause": "Соглашения нет: война продолжается.",
        "no_deal_label": "Соглашения нет: война продолжается",
        "baseline_cause": "Обычный риск, которому подвержено любое прекращение огня (ни одно условие не выделялось)",
        "conflict": (
            "Эти варианты нельзя совместить: {a} исключает {b}. Выберите другой вариант по одному из двух вопросов."
        ),
        "quote": "«{text}»",
        "instead": "«{new}» вместо «{old}»",
        "note_counter": "Встречное предложение к предложению {id}: {changes}.",
        "note_package": "{package}.",
        "note_durability": (
            "{head} Прочность: мир в течение {peace}% ближайших {span}, {hold}% шансов продержаться все {span}."
        ),
        "times": "×",
        "percent": "{n}%",
        "decimal": ",",
    },
    "de": {
        "little_effect": "Kaum Wirkung auf diese Vereinbarung ({times}{hr}).",
        "raises_risk": "{label}: erhöht das Risiko.",
        "lowers_risk": "{label}: senkt das Risiko.",
        "mainly": "Vor allem: {option}.",
        "nothing_provides": "Kaum etwas in dieser Vereinbarung sorgt dafür.",
        "accepted_share": "Das zählt nur so weit, wie beide Seiten die Bedingungen annehmen: hier {share}.",
        "weighted_by": "Gewichtet mit {times}{mult} durch: {label}.",
        "news": "Nachrichten: {headlines}.",
        "list_joiner": "; ",
        "option_name": "{issue}: {option}",
        "held": (
            "Hielt alle {span}. Das jährliche Kriegsrisiko war im {year}. Jahr am höchsten: {risk}, "
            "gegenüber {base} bei einem durchschnittlichen Waffenstillstand."
        ),
        "collapsed": (
            "Zerbrach im {year}. Jahr: In jenem Jahr lag das Kriegsrisiko bei {risk}, gegenüber {base} "
            "bei einem durchschnittlichen Waffenstillstand."
        ),
        "biggest_push": "{head} Am stärksten trieb es an: {label} ({times}{hr} in jenem Jahr): {why}",
        "context_push": (
            "{head} Keine Bedingung der Vereinbarung erhöhte das Risiko; das tat der feste Kontext "
            "({context}), {times}{hr}, und die Würfel fielen schlecht."
        ),
        "context_push_bare": (
            "{head} Keine Bedingung der Vereinbarung erhöhte das Risiko; das tat der feste Kontext, "
            "{times}{hr}, und die Würfel fielen schlecht."
        ),
        "ordinary_risk": (
            "{head} Keine Bedingung der Vereinbarung erhöhte das Risiko: Es war das gewöhnliche Risiko, "
            "dem jeder Waffenstillstand ausgesetzt ist."
        ),
        "no_deal_held": (
            "{no_deal} Diese Linie hielt alle {span}; ihr jährliches Kriegsrisiko war im {year}. Jahr am "
            "höchsten: {risk}, gegenüber {base} bei einem durchschnittlichen Waffenstillstand."
        ),
        "no_deal_collapsed": (
            "{no_deal} Der Krieg kehrte im {year}. Jahr zurück: In jenem Jahr lag das Risiko bei {risk}, "
            "gegenüber {base} bei einem durchschnittlichen Waffenstillstand."
        ),
        "no_deal_cause": "Keine Einigung: Der Krieg geht weiter.",
        "no_deal_label": "Keine Einigung: Der Krieg geht weiter",
        "baseline_cause": "Das gewöhnliche Risiko jedes Waffenstillstands (keine einzelne Bedingung stach heraus)",
        "conflict": (
            "Diese Optionen lassen sich nicht verbinden: {a} schließt {b} aus. Wählen Sie für eine der "
            "beiden Fragen eine andere Option."
        ),
        "quote": "\u201e{text}\u201c",
        "instead": "\u201e{new}\u201c statt \u201e{old}\u201c",
        "note_counter": "Gegenvorschlag zu Vorschlag {id}: {changes}.",
        "note_package": "{package}.",
        "note_durability": (
            "{head} Haltbarkeit: Frieden in {peace}"
            + NBSP
            + "% der nächsten {span}, {hold}"
            + NBSP
            + "% Chance, alle {span} zu halten."
        ),
        "times": "×",
        "percent": "{n}" + NBSP + "%",
        "decimal": ",",
    },
    "fr": {
        "little_effect": "Peu d\u2019effet sur cet accord ({times}{hr}).",
        "raises_risk": "{label}" + NBSP + ": accroît le risque.",
        "lowers_risk": "{label}" + NBSP + ": réduit le risque.",
        "mainly": "Surtout" + NBSP + ": {option}.",
        "nothing_provides": "Presque rien dans cet accord n\u2019y pourvoit.",
        "accepted_share": (
            "Cela ne compte que dans la mesure où les deux parties acceptent les termes"
            + NBSP
            + ": ici {share}."
        ),
        "weighted_by": "Pondéré {times}{mult} par" + NBSP + ": {label}.",
        "news": "Actualités" + NBSP + ": {headlines}.",
        "list_joiner": NBSP + "; ",
        "option_name": "{issue}" + NBSP + ": {option}",
        "held": (
            "L\u2019accord a tenu pendant les {span}. Son risque annuel de guerre a culminé la {nth} année"
            + NBSP
            + ": {risk}, contre {base} pour un cessez-le-feu moyen."
        ),
        "collapsed": (
            "L\u2019accord s\u2019est effondré la {nth} année"
            + NBSP
            + ": cette année-là, le risque de guerre "
            "était de {risk}, contre {base} pour un cessez-le-feu moyen."
        ),
        "biggest_push": (
            "{head} La plus forte poussée est venue de"
            + NBSP
            + ": {label} ({times}{hr} cette année-là)"
            + NBSP
            + ": {why}"
        ),
        "context_push": (
            "{head} Aucune clause de l\u2019accord n\u2019a accru le risque"
            + NBSP
            + "; c\u2019est le contexte fixe "
            "qui l\u2019a fait ({context}), {times}{hr}, et le sort a mal tourné."
        ),
        "context_push_bare": (
            "{head} Aucune clause de l\u2019accord n\u2019a accru le risque"
            + NBSP
            + "; c\u2019est le contexte fixe "
            "qui l\u2019a fait, {times}{hr}, et le sort a mal tourné."
        ),
        "ordinary_risk": (
            "{head} Aucune clause de l\u2019accord n\u2019a accru le risque"
            + NBSP
            + ": c\u2019était le risque "
            "ordinaire auquel tout cessez-le-feu est exposé."
        ),
        "no_deal_held": (
            "{no_deal} Cette ligne a tenu pendant les {span}"
            + NBSP
            + "; son risque annuel de guerre a culminé "
            "la {nth} année" + NBSP + ": {risk}, contre {base} pour un cessez-le-feu moyen."
        ),
        "no_deal_collapsed": (
            "{no_deal} La guerre est revenue la {nth} année" + NBSP + ": cette année-là, le risque était de "
            "{risk}, contre {base} pour un cessez-le-feu moyen."
        ),
        "no_deal_cause": "Pas d\u2019accord" + NBSP + ": la guerre continue.",
        "no_deal_label": "Pas d\u2019accord" + NBSP + ": la guerre continue",
        "baseline_cause": "Le risque ordinaire de tout cessez-le-feu (aucune clause ne se détachait)",
        "conflict": (
            "Ces options ne peuvent pas être combinées"
            + NBSP
            + ": {a} exclut {b}. Choisissez une autre option "
            "pour l\u2019une des deux questions."
        ),
        "quote": "«" + NBSP + "{text}" + NBSP + "»",
        "instead": "«" + NBSP + "{new}" + NBSP + "» au lieu de «" + NBSP + "{old}" + NBSP + "»",
        "note_counter": "Contre-proposition à la proposition {id}" + NBSP + ": {changes}.",
        "note_package": "{package}.",
        "note_durability": (
            "{head} Durabilité"
            + NBSP
            + ": la paix pendant {peace}"
            + NBSP
            + "% des {span} à venir, {hold}"
            + NBSP
            + "% de chances de tenir les {span}."
        ),
        "times": "×",
        "percent": "{n}" + NBSP + "%",
        "decimal": ",",
    },
}

# How many years: the count and its noun, in the form that follows a number (1 рік, 2 роки,
# 5 років). Used where a sentence names the horizon ("all {span}").
_YEARS = {
    "en": ("year", "years"),
    "de": ("Jahr", "Jahre"),
    "fr": ("an", "ans"),
    "uk": ("рік", "роки", "років"),
    "ru": ("год", "года", "лет"),
}

# The generic voice of a bot whose role's voice leaves a kind of line out, by the role's position
# in the model (the side that implements the concessions, the side able to restart the war, a
# mediator) and, for any other party or a kind its position leaves out, "party".
VOICES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "implementer": {
            "opening": (
                "{name} will carry out whatever is signed, so it must be something our people can live "
                "with. Our priority is {top_issue}: {top_option}.",
            ),
            "counter": (
                "{name} could not carry out proposal {other} at home. Our counter, proposal {id}: {changes}.",
            ),
        },
        "challenger": {
            "opening": (
                "{name} will not sign a pause that leaves the real questions open. Our priority is {top_issue}: {top_option}.",
            ),
            "counter": (
                "Proposal {other} ignores what {name} has said from the start. Our counter, proposal {id}: {changes}.",
            ),
        },
        "mediator": {
            "opening": (
                "{name} is here to help the parties reach a settlement that lasts, and will guarantee "
                "only what it can stand behind. We would start from {top_issue}: {top_option}.",
            ),
            "propose": (
                "A mediator's proposal (proposal {id}): {package}. It keeps the peace {peace}% of the next {years} years.",
            ),
            "counter": ("{name} suggests a way between the positions, proposal {id}: {changes}.",),
            "accept": (
                "{name} can stand behind proposal {id}: {peace}% of the next {years} years at peace.",
            ),
            "reject": ("{name} cannot stand behind proposal {id}. Proposal {own} is still open.",),
            "reject_alone": ("{name} cannot stand behind proposal {id}.",),
        },
        "party": {
            "opening": ("{name} is here for a deal that lasts. Our priority is {top_issue}: {top_option}.",),
            "propose": (
                "{name} proposes (proposal {id}): {package}. It holds {peace}% of the next {years} years.",
            ),
            "counter": ("{name} cannot accept proposal {other}. Our counter, proposal {id}: {changes}.",),
            "accept": ("{name} accepts proposal {id}: {peace}% of the next {years} years at peace.",),
            "reject": ("{name} cannot accept proposal {id}. We stand by proposal {own}.",),
            "reject_alone": ("{name} cannot accept proposal {id}.",),
        },
    },
    "uk": {
        "implementer": {
            "opening": (
                "{name}: ми виконуватимемо все, що буде підписано, тож це має бути те, з чим наші люди "
                "зможуть жити. Наш пріоритет — {top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: ми не зможемо виконати пропозицію {other} у себе вдома. Наша зустрічна пропозиція, "
                "пропозиція {id}: {changes}.",
            ),
        },
        "challenger": {
            "opening": (
                "{name}: ми не підпишемо паузу, яка залишає справжні питання відкритими. Наш пріоритет — "
                "{top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: пропозиція {other} ігнорує те, що ми кажемо від самого початку. Наша зустрічна "
                "пропозиція, пропозиція {id}: {changes}.",
            ),
        },
        "mediator": {
            "opening": (
                "{name}: ми тут, щоб допомогти сторонам досягти тривкого врегулювання, і гарантуватимемо "
                "лише те, за що можемо поручитися. Ми почали б із питання {top_issue}: {top_option}.",
            ),
            "propose": (
                "Пропозиція посередника (пропозиція {id}): {package}. Вона зберігає мир упродовж {peace}% "
                "наступних {span}.",
            ),
            "counter": ("{name}: пропонуємо шлях між позиціями, пропозиція {id}: {changes}.",),
            "accept": (
                "{name}: можемо поручитися за пропозицію {id}: мир упродовж {peace}% наступних {span}.",
            ),
            "reject": ("{name}: не можемо поручитися за пропозицію {id}. Пропозиція {own} досі відкрита.",),
            "reject_alone": ("{name}: не можемо поручитися за пропозицію {id}.",),
        },
        "party": {
            "opening": (
                "{name}: ми прагнемо угоди, яка буде тривкою. Наш пріоритет — {top_issue}: {top_option}.",
            ),
            "propose": (
                "{name} пропонує (пропозиція {id}): {package}. Мир упродовж {peace}% наступних {span}.",
            ),
            "counter": (
                "{name}: ми не можемо прийняти пропозицію {other}. Наша зустрічна пропозиція, пропозиція {id}: "
                "{changes}.",
            ),
            "accept": ("{name}: приймаємо пропозицію {id}: мир упродовж {peace}% наступних {span}.",),
            "reject": ("{name}: ми не можемо прийняти пропозицію {id}. Наполягаємо на пропозиції {own}.",),
            "reject_alone": ("{name}: ми не можемо прийняти пропозицію {id}.",),
        },
    },
    "ru": {
        "implementer": {
            "opening": (
                "{name}: мы будем выполнять всё, что подпишем, поэтому это должно быть то, с чем наши люди "
                "смогут жить. Наш приоритет — {top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: мы не сможем выполнить предложение {other} у себя дома. Наше встречное предложение, "
                "предложение {id}: {changes}.",
            ),
        },
        "challenger": {
            "opening": (
                "{name}: мы не подпишем паузу, которая оставляет настоящие вопросы открытыми. Наш приоритет — "
                "{top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: предложение {other} игнорирует то, что мы говорим с самого начала. Наше встречное "
                "предложение, предложение {id}: {changes}.",
            ),
        },
        "mediator": {
            "opening": (
                "{name}: мы здесь, чтобы помочь сторонам прийти к прочному урегулированию, и будем "
                "гарантировать лишь то, за что можем поручиться. Мы начали бы с вопроса {top_issue}: "
                "{top_option}.",
            ),
            "propose": (
                "Предложение посредника (предложение {id}): {package}. Оно сохраняет мир в течение {peace}% "
                "ближайших {span}.",
            ),
            "counter": ("{name}: предлагаем путь между позициями, предложение {id}: {changes}.",),
            "accept": (
                "{name}: можем поручиться за предложение {id}: мир в течение {peace}% ближайших {span}.",
            ),
            "reject": (
                "{name}: не можем поручиться за предложение {id}. Предложение {own} всё ещё открыто.",
            ),
            "reject_alone": ("{name}: не можем поручиться за предложение {id}.",),
        },
        "party": {
            "opening": (
                "{name}: мы стремимся к соглашению, которое будет прочным. Наш приоритет — {top_issue}: "
                "{top_option}.",
            ),
            "propose": (
                "{name} предлагает (предложение {id}): {package}. Мир в течение {peace}% ближайших {span}.",
            ),
            "counter": (
                "{name}: мы не можем принять предложение {other}. Наше встречное предложение, предложение "
                "{id}: {changes}.",
            ),
            "accept": ("{name}: принимаем предложение {id}: мир в течение {peace}% ближайших {span}.",),
            "reject": ("{name}: мы не можем принять предложение {id}. Настаиваем на предложении {own}.",),
            "reject_alone": ("{name}: мы не можем принять предложение {id}.",),
        },
    },
    "de": {
        "implementer": {
            "opening": (
                "{name}: Wir müssen umsetzen, was unterschrieben wird; also muss es etwas sein, mit dem unsere "
                "Bevölkerung leben kann. Unsere Priorität ist {top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: Vorschlag {other} könnten wir im eigenen Land nicht umsetzen. Unser Gegenvorschlag, "
                "Vorschlag {id}: {changes}.",
            ),
        },
        "challenger": {
            "opening": (
                "{name}: Wir unterschreiben keine Pause, die die eigentlichen Fragen offenlässt. Unsere "
                "Priorität ist {top_issue}: {top_option}.",
            ),
            "counter": (
                "{name}: Vorschlag {other} übergeht, was wir von Anfang an gesagt haben. Unser Gegenvorschlag, "
                "Vorschlag {id}: {changes}.",
            ),
        },
        "mediator": {
            "opening": (
                "{name}: Wir sind hier, um den Parteien zu einer dauerhaften Regelung zu verhelfen, und "
                "garantieren nur, wofür wir einstehen können. Wir würden bei {top_issue} beginnen: {top_option}.",
            ),
            "propose": (
                "Ein Vorschlag des Vermittlers (Vorschlag {id}): {package}. Er sichert den Frieden in {peace}"
                + NBSP
                + "% der nächsten {span}.",
            ),
            "counter": (
                "{name}: Wir schlagen einen Weg zwischen den Positionen vor, Vorschlag {id}: {changes}.",
            ),
            "accept": (
                "{name}: Wir können für Vorschlag {id} einstehen: Frieden in {peace}"
                + NBSP
                + "% der nächsten {span}.",
            ),
            "reject": (
                "{name}: Für Vorschlag {id} können wir nicht einstehen. Vorschlag {own} ist weiter offen.",
            ),
            "reject_alone": ("{name}: Für Vorschlag {id} können wir nicht einstehen.",),
        },
        "party": {
            "opening": (
                "{name}: Wir wollen eine Vereinbarung, die hält. Unsere Priorität ist {top_issue}: {top_option}.",
            ),
            "propose": (
                "Vorschlag von {name} (Vorschlag {id}): {package}. Frieden in {peace}"
                + NBSP
                + "% der nächsten {span}.",
            ),
            "counter": (
                "{name}: Vorschlag {other} können wir nicht annehmen. Unser Gegenvorschlag, Vorschlag {id}: {changes}.",
            ),
            "accept": (
                "{name}: Wir nehmen Vorschlag {id} an: Frieden in {peace}" + NBSP + "% der nächsten {span}.",
            ),
            "reject": ("{name}: Vorschlag {id} können wir nicht annehmen. Wir bleiben bei Vorschlag {own}.",),
            "reject_alone": ("{name}: Vorschlag {id} können wir nicht annehmen.",),
        },
    },
    "fr": {
        "implementer": {
            "opening": (
                "{name}"
                + NBSP
                + ": nous devrons appliquer tout ce qui sera signé, ce doit donc être quelque "
                "chose que notre population peut accepter. Notre priorité est {top_issue}"
                + NBSP
                + ": {top_option}.",
            ),
            "counter": (
                "{name}" + NBSP + ": nous ne pourrions pas appliquer la proposition {other} chez nous. Notre "
                "contre-proposition, la proposition {id}" + NBSP + ": {changes}.",
            ),
        },
        "challenger": {
            "opening": (
                "{name}"
                + NBSP
                + ": nous ne signerons pas une pause qui laisse ouvertes les vraies questions. "
                "Notre priorité est {top_issue}" + NBSP + ": {top_option}.",
            ),
            "counter": (
                "{name}" + NBSP + ": la proposition {other} ignore ce que nous disons depuis le début. Notre "
                "contre-proposition, la proposition {id}" + NBSP + ": {changes}.",
            ),
        },
        "mediator": {
            "opening": (
                "{name}"
                + NBSP
                + ": nous sommes là pour aider les parties à parvenir à un règlement durable et "
                "ne garantirons que ce que nous pouvons assumer. Nous partirions de {top_issue}"
                + NBSP
                + ": {top_option}.",
            ),
            "propose": (
                "Une proposition du médiateur (proposition {id})"
                + NBSP
                + ": {package}. La paix pendant {peace}"
                + NBSP
                + "% des {span} à venir.",
            ),
            "counter": (
                "{name}"
                + NBSP
                + ": nous suggérons une voie entre les positions, proposition {id}"
                + NBSP
                + ": {changes}.",
            ),
            "accept": (
                "{name}"
                + NBSP
                + ": nous pouvons soutenir la proposition {id}"
                + NBSP
                + ": la paix pendant {peace}"
                + NBSP
                + "% des {span} à venir.",
            ),
            "reject": (
                "{name}" + NBSP + ": nous ne pouvons pas soutenir la proposition {id}. La proposition {own} "
                "reste ouverte.",
            ),
            "reject_alone": ("{name}" + NBSP + ": nous ne pouvons pas soutenir la proposition {id}.",),
        },
        "party": {
            "opening": (
                "{name}"
                + NBSP
                + ": nous voulons un accord qui dure. Notre priorité est {top_issue}"
                + NBSP
                + ": {top_option}.",
            ),
            "propose": (
                "Proposition de {name} (proposition {id})"
                + NBSP
                + ": {package}. La paix pendant {peace}"
                + NBSP
                + "% des {span} à venir.",
            ),
            "counter": (
                "{name}" + NBSP + ": nous ne pouvons pas accepter la proposition {other}. Notre "
                "contre-proposition, la proposition {id}" + NBSP + ": {changes}.",
            ),
            "accept": (
                "{name}"
                + NBSP
                + ": nous acceptons la proposition {id}"
                + NBSP
                + ": la paix pendant {peace}"
                + NBSP
                + "% des {span} à venir.",
            ),
            "reject": (
                "{name}" + NBSP + ": nous ne pouvons pas accepter la proposition {id}. Nous maintenons la "
                "proposition {own}.",
            ),
            "reject_alone": ("{name}" + NBSP + ": nous ne pouvons pas accepter la proposition {id}.",),
        },
    },
}


def table(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang) or MESSAGES["en"]


def text(lang: str, key: str, **fields: Any) -> str:
    """The sentence ``key`` in ``lang`` (English if the language or the sentence is missing),
    its fields filled in. Every sentence also knows ``{times}``, the language's multiplication
    sign."""
    template = table(lang).get(key) or MESSAGES["en"][key]
    return template.format(times=table(lang).get("times", "x"), **fields)


def number(lang: str, x: float, digits: int) -> str:
    """``x`` with ``digits`` decimals, written the language's way (1.40 or 1,40)."""
    return f"{x:.{digits}f}".replace(".", table(lang).get("decimal", "."))


def percent(lang: str, share: float) -> str:
    """A share (0-1) as a whole per cent, written the language's way (18% or 18 %)."""
    return table(lang).get("percent", "{n}%").format(n=f"{100 * share:.0f}")


def years(lang: str, n: int) -> str:
    """``n`` years, with the noun's form that follows that number: 10 years, 10 років, 2 роки."""
    forms = _YEARS.get(lang) or _YEARS["en"]
    if len(forms) == 3:  # Ukrainian and Russian: 1, 2-4, 5-20 (and 11-14), by the last digits
        if n % 10 == 1 and n % 100 != 11:
            word = forms[0]
        elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            word = forms[1]
        else:
            word = forms[2]
    else:
        word = forms[0] if n == 1 else forms[1]
    return f"{n}{NBSP if lang in ('fr', 'de') else ' '}{word}"


def ordinal(lang: str, n: int) -> str:
    """The n-th, where a language writes it apart from the number (French: 1re, 2e)."""
    if lang == "fr":
        return "1re" if n == 1 else f"{n}e"
    return str(n)


def voice(lang: str, position: str, kind: str) -> tuple[str, ...]:
    """The generic phrases of a kind of line for a role's position, in ``lang``."""
    voices = VOICES.get(lang) or VOICES["en"]
    return voices.get(position, {}).get(kind) or voices["party"][kind]
