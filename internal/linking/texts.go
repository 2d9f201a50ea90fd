package linking

import "fmt"

// What the app answers in the chat. Until a link is made the sender may not
// be who the code was meant for, so no answer names or describes the
// customer: only 「お客さま」.
const (
	ReplyLinked = "お客さまのLINEアカウントと当店のお客さま情報の連携が完了しました。\n" +
		"今後はこのトークで担当者からご連絡することがございます。どうぞよろしくお願いいたします。"
	ReplyWrong = "ご入力いただいた連携コードを確認できませんでした。\n" +
		"お手数ですが、お手元の書類に記載のコード（英数字8文字）をご確認のうえ、もう一度送信してください。"
	ReplyExpired = "ご入力いただいた連携コードは有効期限が切れています。\n" +
		"お手数ですが、お取引店までお問い合わせください。新しいコードをお送りいたします。"
	ReplyUsed = "ご入力いただいた連携コードはすでに使用されています。\n" +
		"お心当たりがない場合は、お手数ですがお取引店までお問い合わせください。"
	ReplyThrottled = "連携コードを続けて確認できなかったため、しばらくの間受付を停止しております。\n" +
		"恐れ入りますが、1時間ほどおいてから、もう一度お試しください。"
	ReplyAlreadyLinked = "このLINEアカウントは、すでにお客さま情報との連携が完了しています。\n" +
		"連携の変更をご希望の場合は、お取引店までお問い合わせください。"
	ReplyAskBirthDate = "連携コードを確認いたしました。\n" +
		"ご本人確認のため、生年月日を送信してください。\n（例：19800401、1980/4/1、昭和55年4月1日）"
	ReplyIdentityLocked = "ご本人確認ができなかったため、この連携コードは無効になりました。\n" +
		"お手数ですが、お取引店までお問い合わせください。"
	ReplyCannotLink = "申し訳ございません。連携のお手続きを完了できませんでした。\n" +
		"お手数ですが、お取引店までお問い合わせください。"
)

// replyIdentityRetry asks again for the birth date.
func replyIdentityRetry(left int) string {
	return fmt.Sprintf("生年月日を確認できませんでした。恐れ入りますが、もう一度送信してください（あと%d回）。\n（例：19800401、1980/4/1、昭和55年4月1日）", left)
}

// EmailText is the body of the email that carries a code.
func EmailText(name, code, until, chatURL string) string {
	s := name + " 様\n\n" +
		"いつもお引き立ていただき、ありがとうございます。\n" +
		"当店のLINE公式アカウントとお客さま情報を連携するためのコードをお知らせいたします。\n\n" +
		"連携コード：" + FormatCode(canonical(code)) + "\n" +
		"有効期限　：" + until + "まで\n\n" +
		"【連携の手順】\n" +
		"1. 当店のLINE公式アカウントを友だち追加してください。\n" +
		"2. トーク画面で、上記の連携コードを送信してください。\n" +
		"3. 連携完了のメッセージが届きましたら、お手続きは完了です。\n"
	if chatURL != "" {
		s += "\nスマートフォンでは、次のリンクからコード入力済みのトーク画面を開けます。\n" + chatURL + "\n"
	}
	return s + "\nお心当たりのない場合は、このメールを破棄してください。\n"
}

// SMSText is the text of the SMS that carries a code (kept short).
func SMSText(code, until, chatURL string) string {
	s := "LINE連携コード：" + FormatCode(canonical(code)) + "（" + until + "まで有効）。当店LINE公式アカウントのトークで送信してください。"
	if chatURL != "" {
		s += " " + chatURL
	}
	return s
}
