package customer_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"tsunagu/internal/store/storetest"

	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/store"
)

func setup(t *testing.T) (*store.DB, *customer.Service) {
	t.Helper()
	db := storetest.New(t)
	csv := "顧客番号,氏名,フリガナ,電話番号,携帯電話,メールアドレス,店番\n" +
		"A001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,03-1111-2222,,taro@example.jp,001\n" +
		"A002,山田 花子,ﾔﾏﾀﾞ ﾊﾅｺ,,090-3333-4444,,002\n" +
		"B001,佐藤 100%_本店,ｻﾄｳ,,,sato@example.jp,001\n"
	path := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(path, []byte(csv), 0o600)
	if _, err := importer.Import(context.Background(), db, path, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC) }
	return db, customer.New(db, clock)
}

func id(t *testing.T, svc *customer.Service, no string) int64 {
	t.Helper()
	v, err := svc.IDByNumber(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestListSearchAndFilters(t *testing.T) {
	ctx := context.Background()
	_, svc := setup(t)
	if err := svc.AddTag(ctx, "staff:tanaka", id(t, svc, "A002"), "年金"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", id(t, svc, "A001"), customer.ChannelEmail, true, "staff:tanaka"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", id(t, svc, "B001"), customer.ChannelEmail, false, "staff:tanaka"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    customer.Filter
		want []string
	}{
		{"all", customer.Filter{}, []string{"A001", "A002", "B001"}},
		{"number", customer.Filter{Query: "Ａ００"}, []string{"A001", "A002"}},
		{"name", customer.Filter{Query: "山田"}, []string{"A001", "A002"}},
		{"name without the space", customer.Filter{Query: "山田花子"}, []string{"A002"}},
		{"half-width kana", customer.Filter{Query: "ﾊﾅｺ"}, []string{"A002"}},
		{"hiragana finds katakana", customer.Filter{Query: "やまだ"}, []string{"A001", "A002"}},
		{"hyphenated phone", customer.Filter{Query: "090-3333-4444"}, []string{"A002"}},
		{"part of a phone", customer.Filter{Query: "1111"}, []string{"A001"}},
		{"email, any case", customer.Filter{Query: "TARO@"}, []string{"A001"}},
		{"LIKE wildcards are literal", customer.Filter{Query: "100%_"}, []string{"B001"}},
		{"a lone percent is literal too", customer.Filter{Query: "%"}, []string{"B001"}},
		{"branch", customer.Filter{Branch: "001"}, []string{"A001", "B001"}},
		{"tag", customer.Filter{Tag: "年金"}, []string{"A002"}},
		{"not linked", customer.Filter{LineLinked: "no"}, []string{"A001", "A002", "B001"}},
		{"linked", customer.Filter{LineLinked: "yes"}, nil},
		{"inactive", customer.Filter{Status: "inactive"}, nil},
		{"email consent", customer.Filter{Consent: customer.ChannelEmail}, []string{"A001"}},
		{"no email consent (refused or never asked)", customer.Filter{NoConsent: customer.ChannelEmail}, []string{"A002", "B001"}},
		{"consent and branch", customer.Filter{Consent: customer.ChannelEmail, Branch: "002"}, nil},
		{"page", customer.Filter{Limit: 1, Offset: 1}, []string{"A002"}},
	}
	for _, tt := range tests {
		page, err := svc.List(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, c := range page.Customers {
			got = append(got, c.CustomerNo)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && !equal(got, tt.want)) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	page, _ := svc.List(ctx, customer.Filter{Query: "A00", Limit: 1})
	if page.Total != 2 || len(page.Customers) != 1 || page.Customers[0].Phone != "0311112222" || page.Customers[0].Email != "taro@example.jp" {
		t.Errorf("page: %+v", page)
	}
	if b, _ := svc.Branches(ctx); !equal(b, []string{"001", "002"}) {
		t.Errorf("branches %v", b)
	}
}

func TestCardConsentsLinkProductsAttributes(t *testing.T) {
	ctx := context.Background()
	db, svc := setup(t)
	a1, a2 := id(t, svc, "A001"), id(t, svc, "A002")

	// No record means no consent.
	if ok, err := svc.Consented(ctx, a1, customer.ChannelLINE); ok || err != nil {
		t.Errorf("consent without a record: %v %v", ok, err)
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", a1, customer.ChannelLINE, true, "staff:tanaka"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := svc.Consented(ctx, a1, customer.ChannelLINE); !ok {
		t.Error("granted consent not seen")
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", a1, customer.ChannelLINE, false, "line"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := svc.Consented(ctx, a1, customer.ChannelLINE); ok {
		t.Error("withdrawn consent still granted")
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", a1, "fax", true, "x"); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("unknown channel: %v", err)
	}
	if err := svc.SetConsent(ctx, "staff:tanaka", 999, customer.ChannelSMS, true, "x"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}

	// The LINE link: one LINE user per customer and one customer per LINE user.
	db.Write(ctx, func(tx *sql.Tx) error {
		for _, u := range []string{"U1", "U2"} {
			if _, err := tx.Exec(`INSERT INTO line_users (user_id, display_name, follow_state, created_at) VALUES (?, ?, 'following', 0)`, u, "LINE "+u); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO conversations (line_user_id, created_at) VALUES ('U1', 0)`)
		return err
	})
	if err := svc.LinkLine(ctx, "staff:tanaka", a1, "U1", "manual", "staff:tanaka"); err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkLine(ctx, "staff:tanaka", a2, "U1", "manual", "staff:tanaka"); !errors.Is(err, customer.ErrAlreadyLinked) {
		t.Errorf("second customer on one LINE user: %v", err)
	}
	if err := svc.LinkLine(ctx, "staff:tanaka", a1, "U2", "manual", "staff:tanaka"); !errors.Is(err, customer.ErrAlreadyLinked) {
		t.Errorf("second LINE user on one customer: %v", err)
	}
	if err := svc.LinkLine(ctx, "staff:tanaka", a2, "U2", "telepathy", ""); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("unknown method: %v", err)
	}
	if got, err := svc.CustomerForLineUser(ctx, "U1"); err != nil || got != a1 {
		t.Errorf("customer for U1: %d %v", got, err)
	}

	if _, err := svc.AddProduct(ctx, "staff:tanaka", a1, customer.Product{Type: "定期預金", ProductCode: "TD1", OpenedOn: "R5.4.1", MaturesOn: "2026-04-01", AmountBand: "100-300万"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddProduct(ctx, "staff:tanaka", a1, customer.Product{Type: ""}); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("product without a type: %v", err)
	}
	if err := svc.DefineAttribute(ctx, "staff:tanaka", customer.AttributeDef{Key: "income", Label: "年収帯", Type: "choice", Choices: []string{"〜300万", "300万〜"}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DefineAttribute(ctx, "staff:tanaka", customer.AttributeDef{Key: "nisa", Label: "NISA 口座", Type: "boolean"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAttribute(ctx, "staff:tanaka", a1, "income", "300万〜"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAttribute(ctx, "staff:tanaka", a1, "nisa", "有"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAttribute(ctx, "staff:tanaka", a1, "income", "1億"); !errors.Is(err, customer.ErrInvalid) {
		t.Errorf("value outside the choices: %v", err)
	}
	if err := svc.SetAttribute(ctx, "staff:tanaka", a1, "nope", "1"); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("unknown attribute: %v", err)
	}
	svc.AddTag(ctx, "staff:tanaka", a1, "ＶＩＰ")

	card, err := svc.Card(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if card.Line == nil || card.Line.LineUserID != "U1" || card.Line.FollowState != "following" || card.Line.ConversationID == 0 || card.Line.DisplayName != "LINE U1" {
		t.Errorf("line link: %+v", card.Line)
	}
	if len(card.Consents) != 1 || card.Consents[0].Granted || card.Consents[0].Source != "line" {
		t.Errorf("consents: %+v", card.Consents)
	}
	if len(card.Products) != 1 || card.Products[0].OpenedOn != "2023-04-01" {
		t.Errorf("products: %+v", card.Products)
	}
	if len(card.Attributes) != 2 || card.Attributes[0].Value != "true" || card.Attributes[1].Value != "300万〜" {
		t.Errorf("attributes: %+v", card.Attributes)
	}
	if !equal(card.Tags, []string{"VIP"}) || !card.LineLinked {
		t.Errorf("tags %v linked %v", card.Tags, card.LineLinked)
	}
	if _, err := svc.Card(ctx, 12345); !errors.Is(err, customer.ErrNotFound) {
		t.Errorf("missing card: %v", err)
	}
	if err := svc.UnlinkLine(ctx, "staff:tanaka", a1); err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkLine(ctx, "staff:tanaka", a2, "U1", "code", ""); err != nil {
		t.Errorf("relink after unlink: %v", err)
	}
}

func TestCheckAttribute(t *testing.T) {
	tests := []struct {
		def   customer.AttributeDef
		in    string
		want  string
		valid bool
	}{
		{customer.AttributeDef{Type: "text"}, " ｶﾅ ", "カナ", true},
		{customer.AttributeDef{Type: "number"}, "１,２００.５", "1200.5", true},
		{customer.AttributeDef{Type: "number"}, "many", "", false},
		{customer.AttributeDef{Type: "date"}, "H31/4/30", "2019-04-30", true},
		{customer.AttributeDef{Type: "date"}, "", "", false},
		{customer.AttributeDef{Type: "boolean"}, "否", "false", true},
		{customer.AttributeDef{Type: "boolean"}, "maybe", "", false},
		{customer.AttributeDef{Type: "choice", Choices: []string{"A"}}, "A", "A", true},
		{customer.AttributeDef{Type: "color"}, "red", "", false},
	}
	for _, tt := range tests {
		got, err := tt.def.CheckAttribute(tt.in)
		if tt.valid != (err == nil) || got != tt.want {
			t.Errorf("%s %q = %q, %v", tt.def.Type, tt.in, got, err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCardConsentsPerChannel: the card lists only the channels with a
// record, by channel name, each with its own decision, source and time.
func TestCardConsentsPerChannel(t *testing.T) {
	ctx := context.Background()
	_, svc := setup(t)
	a1, a2 := id(t, svc, "A001"), id(t, svc, "A002")
	for _, c := range []struct {
		channel string
		granted bool
		source  string
	}{
		{customer.ChannelSMS, true, "staff:tanaka"},
		{customer.ChannelPostal, false, "import:dm.csv"},
		{customer.ChannelLINE, true, "line"},
	} {
		if err := svc.SetConsent(ctx, "staff:tanaka", a1, c.channel, c.granted, c.source); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	card, err := svc.Card(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	want := []customer.Consent{
		{Channel: "line", Granted: true, Source: "line", RecordedAt: at},
		{Channel: "postal", Granted: false, Source: "import:dm.csv", RecordedAt: at},
		{Channel: "sms", Granted: true, Source: "staff:tanaka", RecordedAt: at},
	}
	if !slices.Equal(card.Consents, want) {
		t.Errorf("consents %+v, want %+v", card.Consents, want)
	}
	for ch, want := range map[string]bool{customer.ChannelLINE: true, customer.ChannelEmail: false, customer.ChannelSMS: true, customer.ChannelPostal: false} {
		if ok, err := svc.Consented(ctx, a1, ch); ok != want || err != nil {
			t.Errorf("Consented(%s) = %v %v, want %v", ch, ok, err, want)
		}
	}
	// Another customer's columns are untouched.
	if card, err := svc.Card(ctx, a2); err != nil || len(card.Consents) != 0 {
		t.Errorf("A002 consents %+v %v, want none", card.Consents, err)
	}
}

// Names are searched as search keys (textfold.Fold): 異体字, widths, kana and
// spaces fold on both sides, as a clerk expects.
func TestSearchFoldsVariantsAndWidths(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	csv := "顧客番号,氏名,フリガナ\n" +
		"C001,高橋 一郎,タカハシ イチロウ\n" +
		"C002,髙橋 二郎,ﾀｶﾊｼ ｼﾞﾛｳ\n" +
		"C003,髙橋 三郎,たかはし さぶろう\n" +
		"C004,高橋 四郎,タカハシ シロウ\n" +
		"C005,山﨑 花子,ヤマサキ ハナコ\n" +
		"C006,山崎 桜,ヤマザキ サクラ\n" +
		"C007,ＬＩＮＥ 太郎,ライン タロウ\n" +
		"C008,高梁 五郎,タカハシ ゴロウ\n"
	path := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(path, []byte(csv), 0o600)
	if _, err := importer.Import(ctx, db, path, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	svc := customer.New(db, nil)
	for q, want := range map[string][]string{
		"高橋":        {"C001", "C002", "C003", "C004"},
		"髙橋":        {"C001", "C002", "C003", "C004"},
		"山崎":        {"C005", "C006"},
		"山﨑 花子":     {"C005"},
		"LINE":      {"C007"},
		"line太郎":    {"C007"},
		"たかはし":      {"C001", "C002", "C003", "C004", "C008"},
		"ﾀｶﾊｼｻﾌﾞﾛｳ": {"C003"},
		"櫻":         {"C006"},
	} {
		page, err := svc.List(ctx, customer.Filter{Query: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, c := range page.Customers {
			got = append(got, c.CustomerNo)
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q: got %v, want %v", q, got, want)
		}
	}
}
