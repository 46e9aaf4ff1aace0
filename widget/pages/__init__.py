"""The pages behind links in e-mails and widgets: confirm and unsubscribe, gifts and
ratings, referral links and share pages. GET shows, POST acts; the signed link is the
credential."""
